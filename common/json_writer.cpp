#include "common/json_writer.h"

#include <cmath>
#include <cstdint>
#include <string_view>
#include <vector>

#include "common/json_bigint.h"

namespace webhook {
namespace {

using Json = nlohmann::ordered_json;

constexpr char kHex[] = "0123456789abcdef";

void append_u_escape(uint32_t unit, std::string& out) {
  out += "\\u";
  for (int shift = 12; shift >= 0; shift -= 4) out += kHex[(unit >> shift) & 0xF];
}

// As nlohmann's dump() without ensure_ascii, plus: an encoded surrogate (ED A0..BF xx)
// becomes its escape, and any other ill-formed byte U+FFFD.
void append_string(std::string_view s, std::string& out) {
  out += '"';
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"':
        out += "\\\"";
        continue;
      case '\\':
        out += "\\\\";
        continue;
      case '\b':
        out += "\\b";
        continue;
      case '\f':
        out += "\\f";
        continue;
      case '\n':
        out += "\\n";
        continue;
      case '\r':
        out += "\\r";
        continue;
      case '\t':
        out += "\\t";
        continue;
      default:
        break;
    }
    if (c < 0x20) {
      append_u_escape(c, out);
      continue;
    }
    if (c < 0x80) {
      out += static_cast<char>(c);
      continue;
    }
    auto at = [&](std::size_t k) {
      return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0;
    };
    auto cont = [&](std::size_t k) { return (at(k) & 0xC0) == 0x80; };
    std::size_t length = 0;
    if (c >= 0xC2 && c <= 0xDF && cont(1)) {
      length = 2;
    } else if (c == 0xED && at(1) >= 0xA0 && at(1) <= 0xBF && cont(2)) {
      append_u_escape(0xD000 | ((at(1) & 0x3F) << 6) | (at(2) & 0x3F), out);
      i += 2;
      continue;
    } else if (c >= 0xE0 && c <= 0xEF && cont(1) && cont(2) && !(c == 0xE0 && at(1) < 0xA0)) {
      length = 3;
    } else if (c >= 0xF0 && c <= 0xF4 && cont(1) && cont(2) && cont(3) &&
               !(c == 0xF0 && at(1) < 0x90) && !(c == 0xF4 && at(1) > 0x8F)) {
      length = 4;
    }
    if (length == 0) {
      out += "\\ufffd";
      continue;
    }
    out.append(s.substr(i, length));
    i += length - 1;
  }
  out += '"';
}

void append_scalar(const Json& value, std::string& out) {
  if (value.is_string()) {
    append_string(value.get_ref<const std::string&>(), out);
  } else if (is_json_bigint(value)) {
    const auto& digits = value.get_binary();
    out.append(digits.begin(), digits.end());
  } else if (value.is_number_float() && !std::isfinite(value.get<double>())) {
    double v = value.get<double>();
    out += std::isnan(v) ? "NaN" : (v > 0 ? "Infinity" : "-Infinity");
  } else {
    out += value.dump();
  }
}

}  // namespace

std::string write_json(const Json& value) {
  std::string out;
  struct Frame {
    const Json* container;
    std::size_t next;
  };
  std::vector<Frame> stack;
  const Json* current = &value;
  while (true) {
    if (current != nullptr) {
      if (current->is_structured() && !current->empty()) {
        out += current->is_object() ? '{' : '[';
        stack.push_back({current, 0});
      } else if (current->is_structured()) {
        out += current->is_object() ? "{}" : "[]";
      } else {
        append_scalar(*current, out);
      }
      current = nullptr;
    }
    if (stack.empty()) return out;
    Frame& top = stack.back();
    if (top.next == top.container->size()) {
      out += top.container->is_object() ? '}' : ']';
      stack.pop_back();
      continue;
    }
    if (top.next != 0) out += ',';
    if (top.container->is_object()) {
      const auto& entry = *(top.container->get_ref<const Json::object_t&>().begin() +
                            static_cast<std::ptrdiff_t>(top.next));
      append_string(entry.first, out);
      out += ':';
      current = &entry.second;
    } else {
      current = &(*top.container)[top.next];
    }
    ++top.next;
  }
}

}  // namespace webhook
