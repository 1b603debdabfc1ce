// Turns what the dispatch loop reports into the dispatcher's metrics: every committed
// attempt (by feed, outcome and status class, with its duration), the requests in flight
// after each turn, leases taken back and the share of the cluster cap. Borrows the metrics and the
// loop, which must outlive it; called on the loop's thread only, while the HTTP thread renders.
#pragma once

#include "common/process_metrics.h"
#include "dispatcher/dispatch_loop.h"

namespace webhook::dispatcher {

class MetricsListener final : public DispatchListener {
 public:
  MetricsListener(metrics::DispatcherMetrics& metrics, const DispatchLoop& loop)
      : metrics_(metrics),
        in_flight_(metrics.jobs_in_flight.get()),
        reclaimed_(metrics.leases_reclaimed.get()),  // exposed as 0 until the first one
        loop_(loop) {}

  std::optional<int64_t> on_turn(int64_t now) override {
    in_flight_.set(static_cast<double>(loop_.in_flight()));
    if (const ClusterShare* cluster = loop_.cluster_share()) {
      if (!cluster_share_) {
        cluster_share_ = &metrics_.cluster_host_share.get();
        cluster_live_ = &metrics_.cluster_dispatchers.get();
      }
      cluster_share_->set(static_cast<double>(cluster->share(now)));
      cluster_live_->set(static_cast<double>(cluster->live()));
    }
    return std::nullopt;
  }
  void on_attempt(const store::Outcome& outcome, std::string_view feed) override {
    metrics_.record_outcome(outcome, feed);
    // The loop may end right after its last commit, without another turn.
    in_flight_.set(static_cast<double>(loop_.in_flight()));
  }
  void on_leases_reclaimed(int jobs) override { reclaimed_.inc(static_cast<double>(jobs)); }

 private:
  metrics::DispatcherMetrics& metrics_;
  metrics::Gauge& in_flight_;  // looked up once: on_turn runs thousands of times a second
  metrics::Counter& reclaimed_;
  // Made at the first turn with WEBHOOK_CLUSTER_HOST_CONCURRENCY set, so they are absent
  // without it.
  metrics::Gauge* cluster_share_ = nullptr;
  metrics::Gauge* cluster_live_ = nullptr;
  const DispatchLoop& loop_;
};

}  // namespace webhook::dispatcher
