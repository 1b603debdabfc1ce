// Python's unbounded ints beyond 64 bits, on Boost.Multiprecision's cpp_int (header-only, so
// the programs need no extra runtime library). Values that fit 64 bits never come here: the
// interpreter computes with int64_t and moves to a BigInt only when a result overflows.
// Conversions follow CPython 3.11: correctly rounded int→float, the 4300-digit limit on
// decimal text. Stateless and thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <boost/multiprecision/cpp_int.hpp>

// GCC 12 reports a false "may be used uninitialized" inside cpp_int's inlined limb access
// (Boost 1.74, Debian 12) wherever the arithmetic is inlined, so for the files using it.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include "common/template/python_value.h"

namespace webhook::tmpl {

using boost::multiprecision::cpp_int;

struct BigInt {
  cpp_int v;
};

// CPython 3.11's sys.get_int_max_str_digits() default.
inline constexpr std::size_t kMaxIntStrDigits = 4300;
// The largest int a template may compute, in bits (about 10,000 decimal digits): a guard
// against work that never ends (`7 ** 10**9`). Python has no such bound.
inline constexpr std::size_t kMaxIntBits = 33'220;

// An int of any size (small when it fits 64 bits). Throws OverflowError beyond kMaxIntBits.
Value make_int(cpp_int v);
// The exact value of an int or bool.
cpp_int big_of(const Value& v);
// Decimal text; ValueError beyond kMaxIntStrDigits, as CPython's str(int).
std::string big_to_decimal(const cpp_int& v);
// Digits of |v| in base 2, 8, 10 or 16 (10 checks the digit limit).
std::string big_digits(const cpp_int& magnitude, int base, bool upper);
// Parses digits (no sign, no underscores) in `base`; decimal text beyond the limit is
// ValueError with `what` prefixed to CPython's message (int() or a literal).
cpp_int big_parse(std::string_view digits, int base);
// Correctly rounded (half to even) conversion; OverflowError "int too large to convert to
// float" when out of range.
double big_to_double(const cpp_int& v);
// a / b correctly rounded, b != 0; OverflowError "integer division result too large for a
// float".
double big_true_divide(const cpp_int& a, const cpp_int& b);
// The exact integer value of a finite double with no fractional part.
cpp_int big_from_double(double f);
// -1, 0, 1, or 2 when unordered (NaN): exact comparison of an int with a float.
int big_compare_float(const cpp_int& i, double f);
// Python's // and % (signs of the divisor); REQUIRES b != 0.
void big_floor_divmod(const cpp_int& a, const cpp_int& b, cpp_int& q, cpp_int& r);
// a ** b for b >= 0, after checking that the result stays within kMaxIntBits.
Value big_pow(const cpp_int& a, const cpp_int& b);

}  // namespace webhook::tmpl
