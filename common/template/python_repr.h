// str(), repr() and ascii() of Python values, written into an output buffer, exactly as
// CPython 3.11 prints them (string quoting and escapes, shortest round-trip floats, nested
// containers). Stateless and thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/template/python_value.h"

namespace webhook::tmpl {

// How deep containers may nest before repr gives up with RecursionError (JSON from the
// platform may be hostile; Python stops at about 1,000 frames, we stop earlier).
inline constexpr int kMaxReprDepth = 200;

void append_str(std::string& out, const Value& v);
void append_repr(std::string& out, const Value& v, bool ascii = false, int depth = 0);
void append_string_repr(std::string& out, std::string_view s, bool ascii);
void append_float_repr(std::string& out, double f);
void append_int(std::string& out, int64_t i);

// The shortest digits that round-trip `f` (finite, non-negative) and the decimal point
// position: f == 0.DIGITS × 10^decpt.
void shortest_digits(double f, std::string& digits, int& decpt);

}  // namespace webhook::tmpl
