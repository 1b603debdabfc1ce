// UTF-8 decoding and the few Unicode properties the template language needs, as CPython
// defines them: printability (for repr), whitespace (for strip and split) and case mapping
// (for lower and upper). Stateless; the tables are generated (unicode_tables.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace webhook::tmpl {

struct CodeRange {
  char32_t first, last;
};
struct CaseRun {
  char32_t first, last;
  int32_t delta;
};
struct CaseMulti {
  char32_t code;
  char32_t to[3];
};

// Decodes the code point at s[i] and advances i. REQUIRES: s is valid UTF-8.
char32_t decode_utf8(std::string_view s, std::size_t& i);
void append_utf8(std::string& out, char32_t cp);
// The byte offset of a string's code-point index (size() when past the end).
std::size_t utf8_offset(std::string_view s, std::size_t code_points);
// Whether s is well-formed UTF-8 (no surrogates, no overlongs).
bool valid_utf8(std::string_view s);

bool is_printable(char32_t cp);
bool is_space(char32_t cp);  // str.isspace() of one character
void append_lower(std::string& out, std::string_view s);
void append_upper(std::string& out, std::string_view s);

namespace unicode_tables {
extern const CodeRange kNonPrintable[];
extern const std::size_t kNonPrintableCount;
extern const CaseRun kLowerRuns[];
extern const std::size_t kLowerRunCount;
extern const CaseMulti kLowerMulti[];
extern const std::size_t kLowerMultiCount;
extern const CaseRun kUpperRuns[];
extern const std::size_t kUpperRunCount;
extern const CaseMulti kUpperMulti[];
extern const std::size_t kUpperMultiCount;
}  // namespace unicode_tables

}  // namespace webhook::tmpl
