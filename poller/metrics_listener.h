// Turns what the poll loops report into the poller's metrics: every finished poll (result,
// duration, items, jobs enqueued, duplicates, render errors) and each feed's cursor lag,
// kept growing between polls while OpenCTI does not answer. Every feed thread shares one;
// thread-safe. Borrows the metrics and the clock, which must outlive it.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/process_metrics.h"
#include "poller/feed_lease_keeper.h"
#include "poller/poll_loop.h"

namespace webhook::poller {

class MetricsListener final : public PollListener {
 public:
  // `cursors`: each feed's cursor when the poller starts (nullopt for a feed never polled).
  MetricsListener(metrics::PollerMetrics& metrics, const Clock& clock,
                  std::map<std::string, std::optional<int64_t>> cursors);

  void on_poll(const FeedPoller& feed, const PollResult& result) override;
  std::optional<int64_t> on_turn(int64_t now) override;
  // A feed's lease taken or lost (FeedLeaseKeeper's observer): held and takeovers.
  void on_lease(const FeedLeaseChange& change);

 private:
  metrics::PollerMetrics& metrics_;
  const Clock& clock_;
  std::mutex mutex_;
  std::map<std::string, std::optional<int64_t>> cursors_;
};

}  // namespace webhook::poller
