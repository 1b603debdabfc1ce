#include "poller/json_check.h"

#include <simdjson.h>

#include "common/json_reader.h"

namespace webhook::poller {

JsonCheck::JsonCheck() : parser_(std::make_unique<simdjson::dom::parser>()) {
  // Below read_json's limit, so that nothing it refuses as too deep passes here. Without
  // that limit (the allocation failed), every text goes to read_json.
  ready_ = parser_->allocate(64 * 1024, kMaxJsonDepth - 1) == simdjson::SUCCESS;
}

JsonCheck::~JsonCheck() = default;

bool JsonCheck::surely_json(std::string_view text) {
  if (!ready_ || text.substr(0, 3) == "\xEF\xBB\xBF") return false;
  return parser_->parse(text.data(), text.size()).error() == simdjson::SUCCESS;
}

}  // namespace webhook::poller
