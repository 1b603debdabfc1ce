#include "poller/metrics_listener.h"

#include <algorithm>

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
  return std::nullopt;
}

}  // namespace webhook::poller
