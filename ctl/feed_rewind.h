// The one rule of a rewind, shared by `webhookctl rewind` and the console's rewind form:
// what the target may be (a stream id such as 1679004823824-0, an ISO-8601 time or epoch
// milliseconds), which cursor it moves (a polling feed's time; a stream feed's stream id, a
// time meaning the id "<ms>-0"), and what is refused (a value that is none of these, a
// stream id for a polling feed, a feed the store has no cursor of). Plain functions over a
// borrowed store; as thread-safe as the store.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/store/job_store.h"

namespace webhook::ctl {

struct RewindOutcome {
  enum class Result {
    kMoved,
    kBadValue,  // not a stream id nor a time, or a stream id for a polling feed
    kNoFeed,    // neither a polling nor a stream cursor: the feed never polled or streamed
  };
  Result result = Result::kMoved;
  bool stream = false;
  // For the operator: what was done, or what was wrong (naming `what`, the value's name).
  std::string message;
  // What --json and the console's API answer.
  nlohmann::ordered_json json;
};

// "1679004823824-0" (two whole numbers joined by '-'): the stream id; nullopt otherwise.
std::optional<std::string> parse_stream_id(std::string_view text);

// Rewinds `feed` to `to` (the text the operator gave as `what`, "--to" or "to") at `now`.
RewindOutcome rewind_feed(store::JobStore& store, const std::string& feed, std::string_view to,
                          std::string_view what, int64_t now);

}  // namespace webhook::ctl
