#include "poller/metrics_listener.h"

#include <algorithm>
#include <charconv>
#include <vector>

namespace webhook::poller {

MetricsListener::MetricsListener(metrics::PollerMetrics& metrics, const Clock& clock,
                                 std::map<std::string, std::optional<int64_t>> cursors)
    : metrics_(metrics), clock_(clock), cursors_(std::move(cursors)) {}

void MetricsListener::on_poll(const FeedPoller& feed, const PollResult& result) {
  // An abandoned poll (shutdown, or the lease lost) wrote nothing and says nothing about
  // OpenCTI.
  if (result.status == PollStatus::kAbandoned || result.status == PollStatus::kLeaseLost) return;
  std::optional<int64_t> cursor;
  {
    std::lock_guard lock(mutex_);
    auto& known = cursors_[feed.name()];
    if (result.ok()) {
      known = result.record.window_to;  // the new cursor
    } else if (result.status == PollStatus::kConflict) {
      known.reset();  // moved by an operator to a value we did not see: the next poll tells
    }
    cursor = known;
  }
  if (result.status == PollStatus::kConflict) return;  // not a poll: nothing was written
  store::PollRecord record = result.record;
  // A poll that failed in the store before it was timed carries only its start.
  record.feed = feed.name();
  record.finished_at = std::max(record.finished_at, record.started_at);
  metrics_.record_poll(record, cursor, clock_.now_ms());
}

void MetricsListener::on_lease(const FeedLeaseChange& change) {
  metrics_.feed_lease_held.with({change.feed}).set(change.held ? 1 : 0);
  auto& takeovers = metrics_.feed_lease_takeovers.with({change.feed});
  if (change.held && change.takeover) takeovers.inc();
}

std::optional<int64_t> MetricsListener::on_turn(int64_t now) {
  std::lock_guard lock(mutex_);
  for (const auto& [feed, cursor] : cursors_) metrics_.update_cursor_lag(feed, cursor, now);
  auto seconds = [now](int64_t then) {
    return static_cast<double>(std::max<int64_t>(0, now - then)) / 1000.0;
  };
  for (const auto& [feed, at] : last_message_) {
    metrics_.stream_last_message_age.with({feed}).set(seconds(at));
  }
  for (const auto& [feed, at] : stream_cursor_ms_) {
    metrics_.stream_cursor_lag.with({feed}).set(seconds(at));
  }
  return std::nullopt;
}

void MetricsListener::on_stream_open(const std::string& feed) {
  metrics_.stream_connected.with({feed}).set(1);
  // The series exist from the first connection on, so that rate() sees zeros, not gaps.
  for (auto* family :
       {&metrics_.stream_events_received, &metrics_.stream_events_enqueued,
        &metrics_.stream_events_filtered, &metrics_.jobs_enqueued, &metrics_.render_errors}) {
    family->with({feed});
  }
}

void MetricsListener::on_stream_message(const std::string& feed, int64_t now) {
  std::lock_guard lock(mutex_);
  last_message_[feed] = now;
}

void MetricsListener::on_stream_batch(const std::string& feed, const StreamBatchWritten& batch) {
  const std::vector<std::string> labels{feed};
  metrics_.stream_events_received.with(labels).inc(static_cast<double>(batch.events));
  metrics_.stream_events_enqueued.with(labels).inc(static_cast<double>(batch.jobs_enqueued));
  metrics_.stream_events_filtered.with(labels).inc(static_cast<double>(batch.filtered));
  metrics_.jobs_enqueued.with(labels).inc(static_cast<double>(batch.jobs_enqueued));
  metrics_.render_errors.with(labels).inc(static_cast<double>(batch.render_errors));
  // A stream id is `<ms>-<seq>`: its milliseconds are when the platform recorded the event.
  int64_t ms = 0;
  const std::string& id = batch.cursor;
  auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), ms);
  if (ec != std::errc() || end == id.data() || end == id.data() + id.size() || *end != '-') return;
  std::lock_guard lock(mutex_);
  stream_cursor_ms_[feed] = ms;
}

void MetricsListener::on_stream_end(const std::string& feed, std::string_view reason) {
  metrics_.stream_connected.with({feed}).set(0);
  metrics_.stream_reconnects.with({feed, std::string(reason)}).inc();
}

}  // namespace webhook::poller
