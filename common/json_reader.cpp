#include "common/json_reader.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/json_bigint.h"
#include "common/template/unicode.h"

namespace webhook {
namespace {

using Json = nlohmann::ordered_json;
using Failure = JsonReadResult::Failure;

// Bytes a string's fast loop copies as they are: not '"', '\\', a control character, or
// the start of a multi-byte sequence (which is checked).
constexpr std::array<bool, 256> kPlainStringByte = [] {
  std::array<bool, 256> plain{};
  for (int c = 0x20; c < 0x80; ++c) plain[c] = c != '"' && c != '\\';
  return plain;
}();

bool is_digit(char c) { return c >= '0' && c <= '9'; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The length of the well-formed UTF-8 sequence at `p` (Unicode table 3-7), or, negated, the
// length of its maximal ill-formed subpart: what Python's decoder replaces by one U+FFFD.
int utf8_sequence(const unsigned char* p, const unsigned char* end) {
  unsigned char lead = p[0];
  int length = 0;
  unsigned char low = 0x80, high = 0xBF;  // the second byte's range
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;  // encoded surrogates are ill-formed
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
  } else {
    return -1;
  }
  for (int i = 1; i < length; ++i) {
    if (p + i >= end) return -i;
    unsigned char c = p[i];
    if (c < (i == 1 ? low : 0x80) || c > (i == 1 ? high : 0xBF)) return -i;
  }
  return length;
}

class Reader {
 public:
  Reader(std::string_view text, int max_depth)
      : begin_(text.data()),
        p_(text.data()),
        end_(text.data() + text.size()),
        max_depth_(max_depth) {}

  JsonReadResult run();

 private:
  void skip_whitespace() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }
  bool fail(Failure failure, std::string message, const char* at);
  bool read_scalar(Json& target);
  bool read_string(std::string& out);
  bool read_number(Json& target);
  bool read_literal(Json& target);
  void merge_duplicate_keys(Json::object_t& object);

  const char* begin_;
  const char* p_;
  const char* end_;
  int max_depth_;
  JsonReadResult result_;
};

bool Reader::fail(Failure failure, std::string message, const char* at) {
  std::size_t offset = static_cast<std::size_t>(at - begin_);
  std::size_t line = 1, column = 1;
  for (const char* q = begin_; q < at; ++q) {
    if (*q == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  result_.failure = failure;
  result_.offset = offset;
  result_.error = std::move(message) + ": line " + std::to_string(line) + " column " +
                  std::to_string(column) + " (byte " + std::to_string(offset) + ")";
  return false;
}

bool Reader::read_string(std::string& out) {
  const char* start = p_;  // the opening quote
  ++p_;
  const char* run = p_;
  while (p_ != end_ && kPlainStringByte[static_cast<unsigned char>(*p_)]) ++p_;
  if (p_ != end_ && *p_ == '"') {  // the common case: nothing to decode
    out.assign(run, p_);
    ++p_;
    return true;
  }
  out.assign(run, p_);
  while (true) {
    if (p_ == end_) return fail(Failure::kSyntax, "Unterminated string starting at", start);
    auto c = static_cast<unsigned char>(*p_);
    if (c == '"') {
      ++p_;
      return true;
    }
    if (c < 0x20) return fail(Failure::kSyntax, "Invalid control character at", p_);
    if (c >= 0x80) {
      auto* u = reinterpret_cast<const unsigned char*>(p_);
      int n = utf8_sequence(u, reinterpret_cast<const unsigned char*>(end_));
      if (n > 0) {
        out.append(p_, static_cast<std::size_t>(n));
        p_ += n;
      } else {
        out += "\xEF\xBF\xBD";  // U+FFFD, as requests' errors="replace" decoding
        p_ += -n;
      }
      continue;
    }
    if (c != '\\') {
      const char* plain = p_;
      while (p_ != end_ && kPlainStringByte[static_cast<unsigned char>(*p_)]) ++p_;
      out.append(plain, p_);
      continue;
    }
    const char* escape = p_;
    if (++p_ == end_) return fail(Failure::kSyntax, "Unterminated string starting at", start);
    switch (*p_) {
      case '"':
        out += '"';
        break;
      case '\\':
        out += '\\';
        break;
      case '/':
        out += '/';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'u': {
        auto hex4 = [&](const char* at) -> int {
          if (end_ - at < 4) return -1;
          int v = 0;
          for (int i = 0; i < 4; ++i) {
            int h = hex_value(at[i]);
            if (h < 0) return -1;
            v = v * 16 + h;
          }
          return v;
        };
        int unit = hex4(p_ + 1);
        if (unit < 0) return fail(Failure::kSyntax, "Invalid \\uXXXX escape", escape);
        p_ += 5;
        uint32_t cp = static_cast<uint32_t>(unit);
        // A high surrogate followed by an escaped low one is one character; any other
        // surrogate stays alone, as in Python.
        if (cp >= 0xD800 && cp <= 0xDBFF && end_ - p_ >= 6 && p_[0] == '\\' && p_[1] == 'u') {
          int low = hex4(p_ + 2);
          if (low >= 0xDC00 && low <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (static_cast<uint32_t>(low) - 0xDC00);
            p_ += 6;
          }
        }
        tmpl::append_utf8(out, cp);  // surrogates too: generalized UTF-8
        continue;
      }
      default:
        return fail(Failure::kSyntax, "Invalid \\escape", escape);
    }
    ++p_;
  }
}

bool Reader::read_number(Json& target) {
  const char* start = p_;
  bool negative = *p_ == '-';
  if (negative) ++p_;
  if (negative && end_ - p_ >= 8 && std::string_view(p_, 8) == "Infinity") {
    p_ += 8;
    target = -std::numeric_limits<double>::infinity();
    return true;
  }
  if (p_ == end_ || !is_digit(*p_)) return fail(Failure::kSyntax, "Expecting value", start);
  const char* digits = p_;
  if (*p_ == '0') {
    ++p_;
  } else {
    while (p_ != end_ && is_digit(*p_)) ++p_;
  }
  const char* integer_end = p_;
  bool is_float = false;
  if (end_ - p_ >= 2 && *p_ == '.' && is_digit(p_[1])) {
    is_float = true;
    p_ += 2;
    while (p_ != end_ && is_digit(*p_)) ++p_;
  }
  if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
    const char* e = p_ + 1;
    if (e != end_ && (*e == '+' || *e == '-')) ++e;
    if (e != end_ && is_digit(*e)) {
      is_float = true;
      while (e != end_ && is_digit(*e)) ++e;
      p_ = e;
    }
  }
  if (!is_float) {
    auto count = static_cast<std::size_t>(integer_end - digits);
    if (count <= 18) {
      int64_t v = 0;
      for (const char* q = digits; q != integer_end; ++q) v = v * 10 + (*q - '0');
      target = negative ? -v : v;
      return true;
    }
    if (count > kMaxJsonIntegerDigits) {
      return fail(Failure::kTooManyDigits,
                  "an integer of " + std::to_string(count) + " digits exceeds Python's limit of " +
                      std::to_string(kMaxJsonIntegerDigits) +
                      " digits for integer string conversion (ValueError)",
                  start);
    }
    int64_t v = 0;
    auto [end, ec] = std::from_chars(start, integer_end, v);
    if (ec == std::errc() && end == integer_end) {
      target = v;
    } else {  // beyond 64 bits: keep the exact digits
      Json::binary_t::container_type bytes(start, integer_end);
      target = Json::binary(std::move(bytes), kBigIntJsonSubtype);
    }
    return true;
  }
  double v = 0;
  auto [end, ec] = std::from_chars(start, p_, v);
  if (ec == std::errc::result_out_of_range) {
    // Python's float() rounds to ±inf or ±0.0. It overflows when the first significant
    // digit's power of ten plus the exponent is 0 or more, and underflows otherwise.
    const char* mantissa_end =
        std::find_if(digits, p_, [](char c) { return c == 'e' || c == 'E'; });
    const char* dot = std::find(digits, mantissa_end, '.');
    const char* q = digits;
    while (q != mantissa_end && (*q == '0' || *q == '.')) ++q;
    int64_t magnitude = q < dot ? dot - q - 1 : -(q - dot);
    int64_t exponent = 0;
    if (mantissa_end != p_) {
      std::string_view e(mantissa_end + 1, static_cast<std::size_t>(p_ - mantissa_end - 1));
      bool e_negative = e.front() == '-';
      if (e.front() == '-' || e.front() == '+') e.remove_prefix(1);
      for (char c : e) exponent = std::min<int64_t>(exponent * 10 + (c - '0'), 1'000'000'000);
      if (e_negative) exponent = -exponent;
    }
    bool overflow = magnitude + exponent >= 0;
    double m = overflow ? std::numeric_limits<double>::infinity() : 0.0;
    target = negative ? -m : m;
    return true;
  }
  if (ec != std::errc() || end != p_) return fail(Failure::kSyntax, "Expecting value", start);
  target = v;
  return true;
}

bool Reader::read_literal(Json& target) {
  auto take = [&](std::string_view word) {
    if (end_ - p_ < static_cast<std::ptrdiff_t>(word.size()) ||
        std::string_view(p_, word.size()) != word) {
      return false;
    }
    p_ += word.size();
    return true;
  };
  if (take("null")) {
    target = nullptr;
  } else if (take("true")) {
    target = true;
  } else if (take("false")) {
    target = false;
  } else if (take("NaN")) {
    target = std::numeric_limits<double>::quiet_NaN();
  } else if (take("Infinity")) {
    target = std::numeric_limits<double>::infinity();
  } else {
    return fail(Failure::kSyntax, "Expecting value", p_);
  }
  return true;
}

bool Reader::read_scalar(Json& target) {
  char c = *p_;
  if (c == '"') {
    target = Json(Json::value_t::string);
    return read_string(target.get_ref<std::string&>());
  }
  if (c == '-' || is_digit(c)) return read_number(target);
  return read_literal(target);
}

// Python's dict keeps a repeated key at its first place with its last value. Keys are
// appended without a lookup while reading; this settles repeats once the object is closed.
void Reader::merge_duplicate_keys(Json::object_t& object) {
  const std::size_t n = object.size();
  if (n < 2) return;
  bool repeated = false;
  if (n <= 16) {
    for (std::size_t i = 1; i < n && !repeated; ++i) {
      for (std::size_t j = 0; j < i; ++j) {
        if ((object.begin() + static_cast<std::ptrdiff_t>(i))->first ==
            (object.begin() + static_cast<std::ptrdiff_t>(j))->first) {
          repeated = true;
          break;
        }
      }
    }
  } else {
    std::unordered_map<std::string_view, std::size_t> seen;
    seen.reserve(n);
    for (const auto& entry : object) {
      if (!seen.emplace(entry.first, 0).second) {
        repeated = true;
        break;
      }
    }
  }
  if (!repeated) return;
  Json::object_t merged;
  std::unordered_map<std::string, std::size_t> index;
  for (auto& entry : object) {
    auto [it, inserted] = index.emplace(entry.first, merged.size());
    if (inserted) {
      merged.Container::emplace_back(entry.first, std::move(entry.second));
    } else {
      (merged.begin() + static_cast<std::ptrdiff_t>(it->second))->second = std::move(entry.second);
    }
  }
  object.swap(merged);
}

JsonReadResult Reader::run() {
  if (end_ - p_ >= 3 && std::string_view(p_, 3) == "\xEF\xBB\xBF") {
    fail(Failure::kSyntax, "Unexpected UTF-8 BOM (decode using utf-8-sig)", p_);
    return std::move(result_);
  }
  Json root;
  Json* target = &root;     // where the next value goes
  std::vector<Json*> open;  // the arrays and objects being filled, outermost first
  enum class Next { kValue, kKey, kAfterValue } next = Next::kValue;
  while (true) {
    skip_whitespace();
    if (next == Next::kValue) {
      if (p_ == end_) {
        fail(Failure::kSyntax, "Expecting value", p_);
        break;
      }
      if (*p_ == '[' || *p_ == '{') {
        bool object = *p_ == '{';
        if (static_cast<int>(open.size()) >= max_depth_) {
          fail(Failure::kTooDeep,
               "arrays and objects nested deeper than " + std::to_string(max_depth_) +
                   " levels (Python's json.loads failed on it too: RecursionError)",
               p_);
          break;
        }
        ++p_;
        *target = object ? Json::object() : Json::array();
        skip_whitespace();
        if (p_ != end_ && *p_ == (object ? '}' : ']')) {
          ++p_;
          next = Next::kAfterValue;
          continue;
        }
        open.push_back(target);
        if (object) {
          next = Next::kKey;
        } else {
          target = &target->get_ref<Json::array_t&>().emplace_back();
        }
        continue;
      }
      if (!read_scalar(*target)) break;
      next = Next::kAfterValue;
      continue;
    }
    if (next == Next::kKey) {
      if (p_ == end_ || *p_ != '"') {
        fail(Failure::kSyntax, "Expecting property name enclosed in double quotes", p_);
        break;
      }
      std::string key;
      if (!read_string(key)) break;
      skip_whitespace();
      if (p_ == end_ || *p_ != ':') {
        fail(Failure::kSyntax, "Expecting ':' delimiter", p_);
        break;
      }
      ++p_;
      auto& object = open.back()->get_ref<Json::object_t&>();
      target = &object.Container::emplace_back(std::move(key), nullptr).second;
      next = Next::kValue;
      continue;
    }
    // After a value: the end of the document, or a separator or end of the open container.
    if (open.empty()) {
      if (p_ != end_) {
        fail(Failure::kSyntax, "Extra data", p_);
        break;
      }
      result_.value = std::move(root);
      return std::move(result_);
    }
    Json& container = *open.back();
    bool object = container.is_object();
    if (p_ != end_ && *p_ == ',') {
      ++p_;
      if (object) {
        skip_whitespace();
        next = Next::kKey;
      } else {
        target = &container.get_ref<Json::array_t&>().emplace_back();
        next = Next::kValue;
      }
      continue;
    }
    if (p_ != end_ && *p_ == (object ? '}' : ']')) {
      ++p_;
      if (object) merge_duplicate_keys(container.get_ref<Json::object_t&>());
      open.pop_back();
      continue;
    }
    fail(Failure::kSyntax, "Expecting ',' delimiter", p_);
    break;
  }
  return std::move(result_);
}

}  // namespace

JsonReadResult read_json(std::string_view text, int max_depth) {
  return Reader(text, max_depth).run();
}

}  // namespace webhook
