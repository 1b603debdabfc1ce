#include <algorithm>
#include <cmath>

#include "common/template/big_int.h"
#include "common/template/builtins.h"
#include "common/template/limits.h"
#include "common/template/py_error.h"
#include "common/template/python_repr.h"
#include "common/template/unicode.h"

namespace webhook::tmpl {
namespace {

const char kHex[] = "0123456789abcdef";

void append_u(std::string& out, unsigned v) {
  out += "\\u";
  for (int shift = 12; shift >= 0; shift -= 4) out += kHex[(v >> shift) & 15];
}

void json_string(std::string& out, std::string_view s, bool ensure_ascii) {
  out += '"';
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      std::size_t start = i;
      char32_t cp = decode_utf8(s, i);
      if (!ensure_ascii) {
        out.append(s.substr(start, i - start));
      } else if (cp >= 0x10000) {
        char32_t v = cp - 0x10000;
        append_u(out, 0xD800 | (v >> 10));
        append_u(out, 0xDC00 | (v & 0x3FF));
      } else {
        append_u(out, cp);
      }
      continue;
    }
    ++i;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (c < 0x20 || (c == 0x7F && ensure_ascii)) {
          append_u(out, c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

void json_float(std::string& out, double f) {
  if (std::isnan(f)) {
    out += "NaN";
  } else if (std::isinf(f)) {
    out += f < 0 ? "-Infinity" : "Infinity";
  } else {
    append_float_repr(out, f);
  }
}

void newline(std::string& out, const JsonDumpsOptions& o, int level) {
  out += '\n';
  for (int i = 0; i < level; ++i) out += o.indent;
}

void dump(std::string& out, const Value& v, const JsonDumpsOptions& o, int level) {
  check_text_size(out.size());
  switch (v.kind()) {
    case Kind::kNone:
      out += "null";
      return;
    case Kind::kBool:
      out += v.as_bool() ? "true" : "false";
      return;
    case Kind::kInt:
      if (v.is_big()) {
        out += big_to_decimal(v.as_big().v);
      } else {
        append_int(out, v.as_int());
      }
      return;
    case Kind::kFloat:
      json_float(out, v.as_float());
      return;
    case Kind::kStr:
      json_string(out, v.as_str(), o.ensure_ascii);
      return;
    default:
      break;
  }
  if (level >= kMaxReprDepth) {
    raise("RecursionError", "maximum recursion depth exceeded while encoding a JSON object");
  }
  std::size_t n = v.size();
  spend_work(n);
  if (v.kind() == Kind::kDict) {
    if (n == 0) {
      out += "{}";
      return;
    }
    std::vector<std::size_t> order(n);
    for (std::size_t i = 0; i < n; ++i) order[i] = i;
    if (o.sort_keys) {
      std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return ordered_compare(v.dict_key(a), v.dict_key(b), "<");
      });
    }
    out += '{';
    for (std::size_t k = 0; k < n; ++k) {
      if (k) out += o.item_separator;
      if (o.indent_set) newline(out, o, level + 1);
      Value key = v.dict_key(order[k]);
      switch (key.kind()) {
        case Kind::kStr:
          json_string(out, key.as_str(), o.ensure_ascii);
          break;
        case Kind::kInt:
          out += '"';
          if (key.is_big()) {
            out += big_to_decimal(key.as_big().v);
          } else {
            append_int(out, key.as_int());
          }
          out += '"';
          break;
        case Kind::kFloat:
          out += '"';
          json_float(out, key.as_float());
          out += '"';
          break;
        case Kind::kBool:
          out += key.as_bool() ? "\"true\"" : "\"false\"";
          break;
        case Kind::kNone:
          out += "\"null\"";
          break;
        default:
          raise("TypeError",
                std::string("keys must be str, int, float, bool or None, not ") + type_name(key));
      }
      out += o.key_separator;
      dump(out, v.dict_value(order[k]), o, level + 1);
    }
    if (o.indent_set) newline(out, o, level);
    out += '}';
    return;
  }
  if (n == 0) {
    out += "[]";
    return;
  }
  out += '[';
  for (std::size_t i = 0; i < n; ++i) {
    if (i) out += o.item_separator;
    if (o.indent_set) newline(out, o, level + 1);
    dump(out, v.item(i), o, level + 1);
  }
  if (o.indent_set) newline(out, o, level);
  out += ']';
}

}  // namespace

void json_dumps(std::string& out, const Value& v, const JsonDumpsOptions& options) {
  dump(out, v, options, 0);
}

}  // namespace webhook::tmpl
