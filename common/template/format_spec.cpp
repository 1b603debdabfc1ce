#include "common/template/format_spec.h"

#include <cmath>
#include <cstdint>
#include <cstdio>

#include "common/template/big_int.h"
#include "common/template/limits.h"
#include "common/template/py_error.h"
#include "common/template/python_repr.h"
#include "common/template/unicode.h"

namespace webhook::tmpl {
namespace {

struct Spec {
  std::string fill = " ";
  char align = 0;  // 0 = the type's default
  char sign = 0;
  bool z = false;
  bool alternate = false;
  int64_t width = -1;
  char grouping = 0;
  int64_t precision = -1;
  char type = 0;
};

[[noreturn]] void value_error(const std::string& m) { raise("ValueError", m); }

bool is_align(char c) { return c == '<' || c == '>' || c == '=' || c == '^'; }

int64_t read_number(std::string_view s, std::size_t& i) {
  int64_t n = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
    int64_t digit = s[i++] - '0';
    if (n > (INT64_MAX - digit) / 10) value_error("Too many decimal digits in format string");
    n = n * 10 + digit;
  }
  return n;
}

Spec parse(std::string_view s, const Value& v, char default_align) {
  Spec spec;
  std::size_t i = 0;
  // The fill may be any one code point.
  std::size_t first_end = 0;
  if (!s.empty()) decode_utf8(s, first_end);
  bool fill_given = false, align_given = false;
  if (first_end < s.size() && is_align(s[first_end])) {
    spec.fill = std::string(s.substr(0, first_end));
    spec.align = s[first_end];
    i = first_end + 1;
    fill_given = align_given = true;
  } else if (!s.empty() && is_align(s[0])) {
    spec.align = s[0];
    i = 1;
    align_given = true;
  }
  if (i < s.size() && (s[i] == '+' || s[i] == '-' || s[i] == ' ')) spec.sign = s[i++];
  if (i < s.size() && s[i] == 'z') {
    spec.z = true;
    ++i;
  }
  if (i < s.size() && s[i] == '#') {
    spec.alternate = true;
    ++i;
  }
  if (!fill_given && i < s.size() && s[i] == '0') {
    spec.fill = "0";
    if (!align_given && default_align == '>') spec.align = '=';
    ++i;
  }
  std::size_t before = i;
  int64_t width = read_number(s, i);
  if (i > before) spec.width = width;
  if (i < s.size() && (s[i] == ',' || s[i] == '_')) {
    spec.grouping = s[i++];
    if (i < s.size() && (s[i] == ',' || s[i] == '_')) {
      if (s[i] == spec.grouping)
        value_error(std::string("Cannot specify '") + s[i] + "' with '" + s[i] + "'.");
      value_error("Cannot specify both ',' and '_'.");
    }
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    before = i;
    spec.precision = read_number(s, i);
    if (i == before) value_error("Format specifier missing precision");
  }
  if (s.size() - i > 1) {
    value_error("Invalid format specifier '" + std::string(s) + "' for object of type '" +
                type_name(v) + "'");
  }
  if (i < s.size()) spec.type = s[i];
  if (spec.grouping) {
    std::string_view allowed = spec.grouping == ',' ? "deEfFgG%" : "deEfFgG%boxX";
    if (spec.type && allowed.find(spec.type) == std::string_view::npos) {
      value_error(std::string("Cannot specify '") + spec.grouping + "' with '" + spec.type + "'.");
    }
  }
  return spec;
}

void pad(std::string& out, const Spec& spec, std::string_view body, char default_align) {
  std::size_t len = code_point_count(body);
  auto width = static_cast<std::size_t>(std::max<int64_t>(spec.width, 0));
  check_text_size(out.size() + std::max(len, width) * spec.fill.size());
  if (len >= width) {
    out += body;
    return;
  }
  std::size_t total = width - len, left = 0;
  char align = spec.align ? spec.align : default_align;
  if (align == '>') left = total;
  if (align == '^') left = total / 2;
  for (std::size_t k = 0; k < left; ++k) out += spec.fill;
  out += body;
  for (std::size_t k = left; k < total; ++k) out += spec.fill;
}

std::string group(std::string_view digits, char sep, int every, std::size_t min_width) {
  std::string d(digits);
  while (true) {
    std::string out;
    std::size_t n = d.size();
    for (std::size_t k = 0; k < n; ++k) {
      if (sep && k > 0 && (n - k) % every == 0) out += sep;
      out += d[k];
    }
    if (out.size() >= min_width) return out;
    d.insert(d.begin(), '0');
  }
}

// Lays out a number: sign, prefix, integer digits (grouped), the rest ("." fraction,
// exponent, "%"), honouring '=' alignment and zero padding through the grouping.
void emit_number(std::string& out, const Spec& spec, bool negative, std::string_view prefix,
                 std::string_view int_digits, std::string_view rest, int every) {
  std::string sign;
  if (negative) {
    sign = "-";
  } else if (spec.sign == '+') {
    sign = "+";
  } else if (spec.sign == ' ') {
    sign = " ";
  }
  char align = spec.align ? spec.align : '>';
  std::size_t min_width = 0;
  if (spec.fill == "0" && align == '=' && spec.width > 0) {
    auto used = sign.size() + prefix.size() + code_point_count(rest);
    if (static_cast<std::size_t>(spec.width) > used)
      min_width = static_cast<std::size_t>(spec.width) - used;
  }
  check_text_size(min_width);
  std::string digits =
      spec.grouping ? group(int_digits, spec.grouping, every, min_width) : std::string(int_digits);
  if (!spec.grouping && digits.size() < min_width) digits.insert(0, min_width - digits.size(), '0');
  std::string body = sign + std::string(prefix) + digits + std::string(rest);
  if (align == '=') {
    std::size_t len = code_point_count(body);
    auto width = static_cast<std::size_t>(std::max<int64_t>(spec.width, 0));
    check_text_size(width * spec.fill.size());
    out += sign;
    out += prefix;
    for (std::size_t k = len; k < width; ++k) out += spec.fill;
    out += digits;
    out += rest;
    return;
  }
  Spec s = spec;
  s.align = align;
  pad(out, s, body, '>');
}

void format_str(std::string& out, std::string_view s, const Spec& spec) {
  if (spec.type && spec.type != 's') {
    value_error(std::string("Unknown format code '") + spec.type + "' for object of type 'str'");
  }
  if (spec.sign == ' ') value_error("Space not allowed in string format specifier");
  if (spec.sign) value_error("Sign not allowed in string format specifier");
  if (spec.z) value_error("Negative zero coercion (z) not allowed in string format specifier");
  if (spec.alternate) value_error("Alternate form (#) not allowed in string format specifier");
  if (spec.align == '=') value_error("'=' alignment not allowed in string format specifier");
  if (spec.grouping) value_error(std::string("Cannot specify '") + spec.grouping + "' with 's'.");
  if (spec.precision >= 0)
    s = s.substr(0, utf8_offset(s, static_cast<std::size_t>(spec.precision)));
  pad(out, spec, s, '<');
}

void format_float(std::string& out, double x, Spec spec, const char* type_label);

void format_int(std::string& out, const Value& v, Spec spec, const char* type_label) {
  int64_t i = v.kind() == Kind::kBool ? v.as_bool() : v.as_int();
  char type = spec.type ? spec.type : 'd';
  if (std::string_view("eEfFgG%").find(type) != std::string_view::npos) {
    format_float(out, v.is_big() ? big_to_double(v.as_big().v) : static_cast<double>(i), spec,
                 type_label);
    return;
  }
  if (std::string_view("dnbcoxX").find(type) == std::string_view::npos) {
    value_error(std::string("Unknown format code '") + type + "' for object of type '" +
                type_label + "'");
  }
  if (spec.precision >= 0) value_error("Precision not allowed in integer format specifier");
  if (spec.z) value_error("Negative zero coercion (z) not allowed in integer format specifier");
  if (type == 'c') {
    if (spec.sign) value_error("Sign not allowed with integer format specifier 'c'");
    if (spec.alternate)
      value_error("Alternate form (#) not allowed with integer format specifier 'c'");
    if (v.is_big()) raise("OverflowError", "Python int too large to convert to C long");
    if (i < 0 || i > 0x10FFFF) raise("OverflowError", "%c arg not in range(0x110000)");
    std::string ch;
    append_utf8(ch, static_cast<char32_t>(i));
    pad(out, spec, ch, '>');
    return;
  }
  bool negative = i < 0;
  uint64_t mag = negative ? 0 - static_cast<uint64_t>(i) : static_cast<uint64_t>(i);
  int base = type == 'b' ? 2 : type == 'o' ? 8 : (type == 'x' || type == 'X') ? 16 : 10;
  const char* digit_chars = type == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
  std::string digits;
  if (v.is_big()) {
    const cpp_int& big = v.as_big().v;
    negative = big < 0;
    digits = big_digits(abs(big), base, type == 'X');
  } else {
    do {
      digits.insert(digits.begin(), digit_chars[mag % static_cast<uint64_t>(base)]);
      mag /= static_cast<uint64_t>(base);
    } while (mag);
  }
  std::string prefix;
  if (spec.alternate && base != 10) {
    prefix = std::string("0") + (type == 'b' ? 'b' : type == 'o' ? 'o' : type);
  }
  emit_number(out, spec, negative, prefix, digits, "", base == 10 ? 3 : 4);
}

// Digits of x (finite, >= 0) to `significant` digits, and the decimal point position.
void rounded_digits(double x, int significant, std::string& digits, int& decpt) {
  std::string buf(static_cast<std::size_t>(significant) + 16, '\0');
  int len = std::snprintf(buf.data(), buf.size(), "%.*e", significant - 1, x);
  buf.resize(static_cast<std::size_t>(len));
  std::string_view s(buf);
  std::size_t e = s.find('e');
  digits.clear();
  for (char c : s.substr(0, e)) {
    if (c != '.') digits += c;
  }
  decpt = std::atoi(buf.c_str() + e + 1) + 1;
}

// Python's 'g' (and the omitted type with a precision, add_dot_0 = true).
std::string general(double x, int64_t precision, bool alternate, bool add_dot_0, bool upper) {
  int p = precision == 0 ? 1 : static_cast<int>(precision);
  std::string digits;
  int decpt;
  rounded_digits(x, p, digits, decpt);
  if (x == 0) decpt = 1;
  if (!alternate) {
    while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  }
  auto n = static_cast<int>(digits.size());
  bool use_exp = decpt <= -4 || decpt > (add_dot_0 ? p - 1 : p);
  std::string out;
  if (use_exp) {
    out += digits[0];
    if (n > 1 || alternate) out += '.';
    out.append(digits, 1);
    int exponent = decpt - 1;
    out += upper ? 'E' : 'e';
    out += exponent < 0 ? '-' : '+';
    if (std::abs(exponent) < 10) out += '0';
    out += std::to_string(std::abs(exponent));
  } else if (decpt <= 0) {
    out = "0." + std::string(static_cast<std::size_t>(-decpt), '0') + digits;
  } else if (decpt >= n) {
    out = digits + std::string(static_cast<std::size_t>(decpt - n), '0');
    if (alternate) out += '.';
    if (add_dot_0 && !alternate) out += ".0";
  } else {
    out = digits.substr(0, static_cast<std::size_t>(decpt)) + "." +
          digits.substr(static_cast<std::size_t>(decpt));
  }
  return out;
}

void format_float(std::string& out, double x, Spec spec, const char* type_label) {
  char type = spec.type;
  if (spec.precision > static_cast<int64_t>(kMaxTextSize)) check_text_size(kMaxTextSize + 1);
  if (type && std::string_view("eEfFgGn%").find(type) == std::string_view::npos) {
    value_error(std::string("Unknown format code '") + type + "' for object of type '" +
                type_label + "'");
  }
  bool negative = std::signbit(x) && !std::isnan(x);
  double a = std::fabs(x);
  bool upper = type == 'E' || type == 'F' || type == 'G';
  std::string body;
  if (type == '%') a *= 100;
  if (std::isnan(a) || std::isinf(a)) {
    body = std::isnan(a) ? (upper ? "NAN" : "nan") : (upper ? "INF" : "inf");
    if (type == '%') body += '%';
  } else if (!type && spec.precision < 0) {
    append_float_repr(body, a);
  } else if (!type || type == 'g' || type == 'G' || type == 'n') {
    body = general(a, spec.precision < 0 ? 6 : spec.precision, spec.alternate, !type, upper);
  } else {
    int64_t p = spec.precision < 0 ? 6 : spec.precision;
    char conv = (type == 'e' || type == 'E') ? type : 'f';
    char fmt[8] = {'%', '.', '*', conv, 0};
    if (spec.alternate) fmt[1] = '#', fmt[2] = '.', fmt[3] = '*', fmt[4] = conv, fmt[5] = 0;
    int len = std::snprintf(nullptr, 0, fmt, static_cast<int>(p), a);
    check_text_size(static_cast<std::size_t>(len));
    body.resize(static_cast<std::size_t>(len) + 1);
    std::snprintf(body.data(), body.size(), fmt, static_cast<int>(p), a);
    body.resize(static_cast<std::size_t>(len));
    if (type == 'F') {
      for (char& c : body) c = static_cast<char>(std::toupper(c));
    }
    if (type == '%') body += '%';
  }
  if (negative && spec.z && body.find_first_of("0") != std::string::npos &&
      body.find_first_of("123456789") == std::string::npos) {
    negative = false;
  }
  // Split the integer digits (grouped, zero padded) from the rest.
  std::size_t int_end = body.find_first_not_of("0123456789");
  if (int_end == std::string::npos) int_end = body.size();
  if (int_end == 0) {  // inf / nan
    emit_number(out, spec, negative, "", "", body, 3);
    return;
  }
  emit_number(out, spec, negative, "", std::string_view(body).substr(0, int_end),
              std::string_view(body).substr(int_end), 3);
}

}  // namespace

void append_formatted(std::string& out, const Value& value, std::string_view spec_text) {
  switch (value.kind()) {
    case Kind::kStr:
      if (spec_text.empty()) {
        out += value.as_str();
        return;
      }
      format_str(out, value.as_str(), parse(spec_text, value, '<'));
      return;
    case Kind::kInt:
      format_int(out, value, parse(spec_text, value, '>'), "int");
      return;
    case Kind::kBool:
      if (spec_text.empty()) {
        out += value.as_bool() ? "True" : "False";
        return;
      }
      format_int(out, value, parse(spec_text, value, '>'), "bool");
      return;
    case Kind::kFloat:
      format_float(out, value.as_float(), parse(spec_text, value, '>'), "float");
      return;
    default:
      if (!spec_text.empty()) {
        raise("TypeError", std::string("unsupported format string passed to ") + type_name(value) +
                               ".__format__");
      }
      append_str(out, value);
  }
}

}  // namespace webhook::tmpl
