#include "common/store/row_helpers.h"

#include <algorithm>
#include <stdexcept>

namespace webhook::store {

std::string truncate_utf8(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  std::size_t end = max_bytes;
  // Step back over continuation bytes (10xxxxxx) to the start of the cut sequence.
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return std::string(text.substr(0, end));
}

void expect_changes(int changed, int expected, std::string_view what) {
  if (changed != expected) {
    throw std::runtime_error(std::string(what) + ": expected to change " +
                             std::to_string(expected) + " row(s), changed " +
                             std::to_string(changed));
  }
}

nlohmann::ordered_json parse_headers(const std::string& text) {
  // Most jobs have no headers: skip the parser for them (every claim reads this column).
  if (text == "{}" || text.empty()) return nlohmann::ordered_json::object();
  auto parsed = nlohmann::ordered_json::parse(text, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) return nlohmann::ordered_json::object();
  return parsed;
}

void check_stream_id(std::string_view id, std::string_view what, std::string_view noun) {
  if (!id.empty() && id.size() <= kMaxStreamIdBytes) return;
  throw std::invalid_argument(std::string(what) + ": a " + std::string(noun) + " of 1-" +
                              std::to_string(kMaxStreamIdBytes) + " bytes");
}

bool is_seq_number(std::string_view id) {
  return !id.empty() && id.size() < 19 &&
         std::all_of(id.begin(), id.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace webhook::store
