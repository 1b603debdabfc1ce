#include "common/process_metrics.h"

#include <algorithm>
#include <map>

namespace webhook::metrics {

std::vector<double> poll_duration_buckets() {
  return {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
}

std::vector<double> request_duration_buckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
}

std::string status_class(std::optional<int> http_status) {
  if (!http_status || *http_status < 100 || *http_status > 599) return "none";
  return std::to_string(*http_status / 100) + "xx";
}

std::string_view outcome_label(store::OutcomeKind kind) {
  switch (kind) {
    case store::OutcomeKind::kDelivered:
      return "delivered";
    case store::OutcomeKind::kRetry:
      return "retry";
    case store::OutcomeKind::kDead:
      return "dead";
  }
  return "unknown";
}

StoreMetrics::StoreMetrics(MetricsRegistry& r)
    : up(r.gauge(kStoreUp,
                 "1 while the database can be reached, 0 while this process is cut off "
                 "from its server.")),
      reconnects(
          r.counter(kStoreReconnects, "Database connections that came back after being cut off.")),
      subscription(
          store::StoreConnectivity::process().observe([this](bool reachable, int64_t total) {
            up.get().set(reachable ? 1 : 0);
            Counter& counter = reconnects.get();
            if (static_cast<double>(total) > counter.value()) {
              counter.inc(static_cast<double>(total) - counter.value());
            }
          })) {}

void register_build_info(MetricsRegistry& registry, std::string_view process) {
  registry
      .gauge(kBuildInfo, "Always 1; the labels tell the version and the process.",
             {"version", "process"})
      .with({WEBHOOK_VERSION, std::string(process)})
      .set(1);
}

PollerMetrics::PollerMetrics(MetricsRegistry& r)
    : polls(r.counter(kPolls, "Polls of OpenCTI, by result (ok or failed).", {"feed", "result"})),
      poll_duration(r.histogram(kPollDuration,
                                "Time one poll took, all pages and the commit included.", {"feed"},
                                poll_duration_buckets())),
      items(r.counter(kItems, "Items found at the data location of successful polls.", {"feed"})),
      jobs_enqueued(r.counter(kJobsEnqueued, "Jobs written to the queue.", {"feed"})),
      duplicates_skipped(r.counter(kDuplicatesSkipped,
                                   "Items skipped as already enqueued or duplicated.", {"feed"})),
      render_errors(
          r.counter(kRenderErrors, "Items whose request could not be rendered.", {"feed"})),
      cursor_lag(r.gauge(kCursorLag, "Seconds between now and the feed's cursor.", {"feed"})),
      last_successful_poll(
          r.gauge(kLastSuccessfulPoll, "Unix time of the feed's last successful poll.", {"feed"})),
      feed_lease_held(r.gauge(kFeedLeaseHeld,
                              "1 while this poller holds the feed's lease (polls it), 0 while "
                              "it stands by.",
                              {"feed"})),
      feed_lease_takeovers(r.counter(kFeedLeaseTakeovers,
                                     "Times this poller took the feed's lease after an earlier "
                                     "tenure (a standby taking over, or a restart).",
                                     {"feed"})),
      store(r) {}

void PollerMetrics::record_poll(const store::PollRecord& poll, std::optional<int64_t> cursor,
                                int64_t now_ms) {
  const std::vector<std::string> feed{poll.feed};
  polls.with({poll.feed, poll.ok ? "ok" : "failed"}).inc();
  poll_duration.with(feed).observe(
      static_cast<double>(std::max<int64_t>(0, poll.finished_at - poll.started_at)) / 1000.0);
  if (poll.ok) {
    items.with(feed).inc(static_cast<double>(poll.items_found));
    jobs_enqueued.with(feed).inc(static_cast<double>(poll.jobs_enqueued));
    duplicates_skipped.with(feed).inc(static_cast<double>(poll.duplicates_skipped));
    render_errors.with(feed).inc(static_cast<double>(poll.render_errors));
    last_successful_poll.with(feed).set(static_cast<double>(poll.finished_at) / 1000.0);
  } else {
    // A failed poll writes nothing, but the series exist from the first poll on so that
    // rate() and alerts see zeros rather than gaps.
    for (auto* family : {&items, &jobs_enqueued, &duplicates_skipped, &render_errors}) {
      family->with(feed);
    }
  }
  update_cursor_lag(poll.feed, cursor, now_ms);
}

void PollerMetrics::update_cursor_lag(std::string_view feed, std::optional<int64_t> cursor,
                                      int64_t now_ms) {
  if (!cursor) return;
  cursor_lag.with({std::string(feed)})
      .set(static_cast<double>(std::max<int64_t>(0, now_ms - *cursor)) / 1000.0);
}

DispatcherMetrics::DispatcherMetrics(MetricsRegistry& r)
    : attempts(r.counter(kAttempts, "Webhook calls made, by outcome and HTTP status class.",
                         {"feed", "outcome", "status_class"})),
      request_duration(r.histogram(kRequestDuration, "Time one webhook call took.", {"feed"},
                                   request_duration_buckets())),
      jobs_in_flight(r.gauge(kJobsInFlight, "Webhook calls in progress.")),
      queue_jobs(r.gauge(kQueueJobs, "Jobs in the queue, by state.", {"state"})),
      oldest_pending_age(
          r.gauge(kOldestPendingAge, "Age of the oldest pending job; 0 when none is pending.")),
      dead_jobs(r.counter(kDeadJobs, "Jobs given up after their last attempt.", {"feed"})),
      leases_reclaimed(
          r.counter(kLeasesReclaimed, "Running jobs taken back after their lease expired.")),
      store(r) {}

void DispatcherMetrics::record_outcome(const store::Outcome& outcome, std::string_view feed) {
  std::string feed_name(feed);
  attempts
      .with(
          {feed_name, std::string(outcome_label(outcome.kind)), status_class(outcome.http_status)})
      .inc();
  request_duration.with({feed_name}).observe(static_cast<double>(outcome.duration_ms) / 1000.0);
  if (outcome.kind == store::OutcomeKind::kDead) dead_jobs.with({feed_name}).inc();
}

void DispatcherMetrics::update_queue(const std::vector<store::FeedStatus>& status, int64_t now_ms) {
  std::map<store::JobState, int64_t> totals;
  for (auto state : store::kAllJobStates) totals[state] = 0;
  std::optional<int64_t> oldest;
  for (const auto& feed : status) {
    for (const auto& [state, count] : feed.counts) totals[state] += count;
    if (feed.oldest_pending_created_at && (!oldest || *feed.oldest_pending_created_at < *oldest)) {
      oldest = feed.oldest_pending_created_at;
    }
  }
  for (const auto& [state, count] : totals) {
    queue_jobs.with({std::string(store::to_string(state))}).set(static_cast<double>(count));
  }
  oldest_pending_age.get().set(
      oldest ? static_cast<double>(std::max<int64_t>(0, now_ms - *oldest)) / 1000.0 : 0.0);
}

}  // namespace webhook::metrics
