// Parses JSON text the way the poller hands answers to templates: integers beyond 64 bits
// keep their exact digits as a binary node (common/json_bigint.h) instead of becoming a
// double, so tests can feed the template language what Python's json.loads kept.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/json_bigint.h"

namespace webhook::tmpl::testing {

using Json = nlohmann::ordered_json;

class BigIntSaxParser : public nlohmann::detail::json_sax_dom_parser<Json> {
 public:
  using json_sax_dom_parser::json_sax_dom_parser;

  // nlohmann reads an integer that fits neither int64 nor uint64 as a float, but still
  // passes its text: an integer literal (no '.', 'e') keeps its digits.
  bool number_float(double value, const std::string& text) {
    if (text.find_first_of(".eE") == std::string::npos) {
      Json::binary_t digits(std::vector<std::uint8_t>(text.begin(), text.end()),
                            kBigIntJsonSubtype);
      return binary(digits);
    }
    return json_sax_dom_parser::number_float(value, text);
  }
};

// Throws nlohmann's parse_error, or with `allow_exceptions` false returns a discarded value.
inline Json parse_keeping_big_ints(std::string_view text, bool allow_exceptions = true) {
  Json result;
  BigIntSaxParser sax(result, allow_exceptions);
  bool ok = Json::sax_parse(text.begin(), text.end(), &sax);
  if (!ok) result = Json(Json::value_t::discarded);
  return result;
}

}  // namespace webhook::tmpl::testing
