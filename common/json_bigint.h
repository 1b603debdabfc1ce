// How an integer outside the 64-bit range travels in a JSON tree: a binary node whose
// bytes are its ASCII decimal digits (an optional leading '-'), with this subtype, so that
// the exact digits Python's json.loads kept survive from the parser to the templates.
// Shared by the JSON reader (which makes such nodes) and the template values (which read
// them). Header only; no state.
#pragma once

#include <cstdint>

#include <nlohmann/json.hpp>

namespace webhook {

inline constexpr std::uint8_t kBigIntJsonSubtype = 0x42;

inline bool is_json_bigint(const nlohmann::ordered_json& j) {
  return j.is_binary() && j.get_binary().has_subtype() &&
         j.get_binary().subtype() == kBigIntJsonSubtype;
}

}  // namespace webhook
