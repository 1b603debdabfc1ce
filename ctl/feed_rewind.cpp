#include "ctl/feed_rewind.h"

#include <charconv>
#include <set>

#include "common/store/row_helpers.h"
#include "ctl/queue_json.h"
#include "ctl/time_text.h"

namespace webhook::ctl {
namespace {

using Result = RewindOutcome::Result;

bool whole_number(std::string_view text) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return !text.empty() && text.front() != '-' && ec == std::errc() &&
         end == text.data() + text.size();
}

std::string known_feeds(store::JobStore& store) {
  std::set<std::string> names;
  for (const auto& feed : store.status()) {
    if (feed.cursor) names.insert(feed.feed);
  }
  for (const auto& [feed, cursor] : store.stream_cursors()) names.insert(feed);
  if (names.empty()) return "none has polled or streamed yet";
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ", ") + name;
  return "the store has " + out;
}

RewindOutcome refused(Result result, std::string message) {
  RewindOutcome r;
  r.result = result;
  r.message = std::move(message);
  return r;
}

}  // namespace

std::optional<std::string> parse_stream_id(std::string_view text) {
  const auto dash = text.find('-');
  if (dash == std::string_view::npos || text.size() > store::kMaxStreamIdBytes) return std::nullopt;
  if (!whole_number(text.substr(0, dash)) || !whole_number(text.substr(dash + 1))) {
    return std::nullopt;
  }
  return std::string(text);
}

RewindOutcome rewind_feed(store::JobStore& store, const std::string& feed, std::string_view to,
                          std::string_view what, int64_t now) {
  const std::optional<std::string> id = parse_stream_id(to);
  const std::optional<int64_t> parsed = id ? std::nullopt : parse_time(to);
  const int64_t time = parsed.value_or(0);
  if (!id && !parsed) {
    return refused(Result::kBadValue,
                   std::string(what) +
                       " must be a stream id (1679004823824-0), an ISO-8601 time "
                       "(2024-05-01T12:00:00Z) or epoch milliseconds, not '" +
                       std::string(to) + "'");
  }
  if (std::optional<std::string> before = store.stream_cursor(feed)) {
    // A stream feed: a time is the first id of its millisecond, as
    // CONNECTOR_LIVE_STREAM_START_TIMESTAMP is.
    if (!id && time < 0) {
      return refused(Result::kBadValue, std::string(what) + " for stream feed " + feed +
                                            " must be at or after 1970-01-01, not '" +
                                            std::string(to) + "'");
    }
    const std::string target = id ? *id : std::to_string(time) + "-0";
    if (!store.rewind_stream(feed, target, now)) {
      return refused(Result::kNoFeed, "feed " + feed + " has no stream cursor any more");
    }
    RewindOutcome r;
    r.stream = true;
    r.message = "stream feed " + feed + ": cursor moved from " + *before + " to " + target +
                "; the poller reconnects from there and enqueues the events after it again";
    r.json = {{"feed", feed}, {"source", "stream"}, {"from", *before}, {"to", target}};
    return r;
  }
  const std::optional<int64_t> before = store.cursor(feed);
  if (!before) {
    return refused(Result::kNoFeed, "no feed " + feed +
                                        " to rewind: it has never polled nor streamed (" +
                                        known_feeds(store) + ")");
  }
  if (id) {
    return refused(Result::kBadValue, "feed " + feed + " polls OpenCTI: its cursor is a time, so " +
                                          std::string(what) +
                                          " must be an ISO-8601 time or epoch milliseconds, "
                                          "not the stream id '" +
                                          std::string(to) + "'");
  }
  store.rewind(feed, time);
  RewindOutcome r;
  r.message = "feed " + feed + ": cursor moved from " + format_utc(*before) + " to " +
              format_utc(time) + "; the next poll asks again from there";
  r.json = {
      {"feed", feed}, {"source", "polling"}, {"from", time_json(before)}, {"to", time_json(time)}};
  return r;
}

}  // namespace webhook::ctl
