#include "common/template/python_repr.h"

#include <charconv>
#include <cmath>

#include "common/template/big_int.h"
#include "common/template/limits.h"
#include "common/template/py_error.h"
#include "common/template/unicode.h"

namespace webhook::tmpl {

void append_int(std::string& out, int64_t i) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, i);
  out.append(buf, r.ptr);
}

void shortest_digits(double f, std::string& digits, int& decpt) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, f, std::chars_format::scientific);
  std::string_view s(buf, static_cast<std::size_t>(r.ptr - buf));
  std::size_t e = s.find('e');
  digits.clear();
  for (char c : s.substr(0, e)) {
    if (c != '.') digits += c;
  }
  int exponent = 0;
  std::string_view ex = s.substr(e + 1);
  if (!ex.empty() && ex[0] == '+') ex.remove_prefix(1);
  std::from_chars(ex.data(), ex.data() + ex.size(), exponent);
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  decpt = exponent + 1;
}

void append_float_repr(std::string& out, double f) {
  if (std::isnan(f)) {
    out += "nan";
    return;
  }
  if (std::isinf(f)) {
    out += f < 0 ? "-inf" : "inf";
    return;
  }
  if (std::signbit(f)) {
    out += '-';
    f = -f;
  }
  std::string digits;
  int decpt;
  shortest_digits(f, digits, decpt);
  auto n = static_cast<int>(digits.size());
  if (decpt <= -4 || decpt > 16) {
    out += digits[0];
    if (n > 1) {
      out += '.';
      out.append(digits, 1);
    }
    int exponent = decpt - 1;
    out += exponent < 0 ? "e-" : "e+";
    int a = std::abs(exponent);
    if (a < 10) out += '0';
    append_int(out, a);
  } else if (decpt <= 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-decpt), '0');
    out += digits;
  } else if (decpt >= n) {
    out += digits;
    out.append(static_cast<std::size_t>(decpt - n), '0');
    out += ".0";
  } else {
    out.append(digits, 0, static_cast<std::size_t>(decpt));
    out += '.';
    out.append(digits, static_cast<std::size_t>(decpt));
  }
}

namespace {

const char kHex[] = "0123456789abcdef";

void append_escape(std::string& out, char32_t cp) {
  if (cp < 0x100) {
    out += "\\x";
    out += kHex[cp >> 4];
    out += kHex[cp & 15];
  } else if (cp < 0x10000) {
    out += "\\u";
    for (int shift = 12; shift >= 0; shift -= 4) out += kHex[(cp >> shift) & 15];
  } else {
    out += "\\U";
    for (int shift = 28; shift >= 0; shift -= 4) out += kHex[(cp >> shift) & 15];
  }
}

}  // namespace

void append_string_repr(std::string& out, std::string_view s, bool ascii) {
  char quote = '\'';
  if (s.find('\'') != std::string_view::npos && s.find('"') == std::string_view::npos) {
    quote = '"';
  }
  out += quote;
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7F) {
      if (c == quote || c == '\\') out += '\\';
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    std::size_t start = i;
    char32_t cp = decode_utf8(s, i);
    if (cp == '\t') {
      out += "\\t";
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp < 0x80 || ascii || !is_printable(cp)) {
      append_escape(out, cp);
    } else {
      out.append(s.substr(start, i - start));
    }
  }
  out += quote;
}

void append_str(std::string& out, const Value& v) {
  if (v.kind() == Kind::kStr) {
    out += v.as_str();
  } else {
    append_repr(out, v);
  }
}

void append_repr(std::string& out, const Value& v, bool ascii, int depth) {
  switch (v.kind()) {
    case Kind::kNone:
      out += "None";
      return;
    case Kind::kBool:
      out += v.as_bool() ? "True" : "False";
      return;
    case Kind::kInt:
      if (v.is_big()) {
        out += big_to_decimal(v.as_big().v);
      } else {
        append_int(out, v.as_int());
      }
      return;
    case Kind::kFloat:
      append_float_repr(out, v.as_float());
      return;
    case Kind::kStr:
      append_string_repr(out, v.as_str(), ascii);
      return;
    default:
      break;
  }
  if (depth >= kMaxReprDepth) {
    raise("RecursionError", "maximum recursion depth exceeded while getting the repr of an object");
  }
  std::size_t n = v.size();
  // Counted as it goes: an aliased list repeats the same elements without their cost.
  spend_work(n);
  check_text_size(out.size());
  if (v.kind() == Kind::kDict) {
    out += '{';
    for (std::size_t i = 0; i < n; ++i) {
      check_text_size(out.size());
      if (i) out += ", ";
      append_repr(out, v.dict_key(i), ascii, depth + 1);
      out += ": ";
      append_repr(out, v.dict_value(i), ascii, depth + 1);
    }
    out += '}';
    return;
  }
  bool tuple = v.kind() == Kind::kTuple;
  out += tuple ? '(' : '[';
  for (std::size_t i = 0; i < n; ++i) {
    check_text_size(out.size());
    if (i) out += ", ";
    append_repr(out, v.item(i), ascii, depth + 1);
  }
  if (tuple && n == 1) out += ',';
  out += tuple ? ')' : ']';
}

}  // namespace webhook::tmpl
