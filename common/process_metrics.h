// The metrics webhook-poller and webhook-dispatcher expose: every name, label and bucket
// layout in one place, and one struct per process that registers them and turns what the
// loops already know (a PollRecord, an Outcome, the queue status) into samples. The structs
// hold references into a MetricsRegistry that must outlive them; they are thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/metrics_registry.h"
#include "common/store/job_store.h"
#include "common/store/store_connectivity.h"

namespace webhook::metrics {

// Names before the CONNECTOR_METRICS_NAMESPACE/_SUBSYSTEM prefix. Base units: seconds.
// --- webhook-poller ---
inline constexpr std::string_view kPolls = "webhook_polls_total";  // {feed, result=ok|failed}
inline constexpr std::string_view kPollDuration = "webhook_poll_duration_seconds";  // {feed}
inline constexpr std::string_view kItems = "webhook_items_total";                   // {feed}
inline constexpr std::string_view kJobsEnqueued = "webhook_jobs_enqueued_total";    // {feed}
inline constexpr std::string_view kDuplicatesSkipped =
    "webhook_duplicates_skipped_total";                                           // {feed}
inline constexpr std::string_view kRenderErrors = "webhook_render_errors_total";  // {feed}
inline constexpr std::string_view kCursorLag = "webhook_cursor_lag_seconds";      // {feed}
inline constexpr std::string_view kFeedLeaseHeld = "webhook_feed_lease_held";     // {feed}, 0 or 1
inline constexpr std::string_view kFeedLeaseTakeovers = "webhook_feed_lease_takeovers_total";
inline constexpr std::string_view kLastSuccessfulPoll =
    "webhook_last_successful_poll_timestamp_seconds";  // {feed}
// --- webhook-dispatcher ---
// {feed, outcome=delivered|retry|dead, status_class=2xx|3xx|4xx|5xx|none}
inline constexpr std::string_view kAttempts = "webhook_attempts_total";
inline constexpr std::string_view kRequestDuration = "webhook_request_duration_seconds";  // {feed}
inline constexpr std::string_view kJobsInFlight = "webhook_jobs_in_flight";  // no labels
inline constexpr std::string_view kQueueJobs = "webhook_queue_jobs";         // {state}
inline constexpr std::string_view kOldestPendingAge =
    "webhook_oldest_pending_job_age_seconds";                                           // no labels
inline constexpr std::string_view kDeadJobs = "webhook_dead_jobs_total";                // {feed}
inline constexpr std::string_view kLeasesReclaimed = "webhook_leases_reclaimed_total";  // no labels
// --- both ---
inline constexpr std::string_view kBuildInfo = "webhook_build_info";  // {version, process}
// 1 while the database can be reached (a file store always), 0 while a connection of this
// process is cut off from the server; and how often one came back.
inline constexpr std::string_view kStoreUp = "webhook_store_up";                        // no labels
inline constexpr std::string_view kStoreReconnects = "webhook_store_reconnects_total";  // no labels

// Upper bounds of the duration histograms, in seconds: a poll may take up to the GraphQL
// timeout (60 s by default), a webhook call up to WEBHOOK_TIMEOUT (30 s).
std::vector<double> poll_duration_buckets();
std::vector<double> request_duration_buckets();

// "2xx" for 200-299 and so on; "none" when no HTTP answer came (timeout, refused).
std::string status_class(std::optional<int> http_status);
std::string_view outcome_label(store::OutcomeKind kind);

// Sets webhook_build_info{version,process} to 1, the usual way of exposing the version.
void register_build_info(MetricsRegistry& registry, std::string_view process);

// webhook_store_up and webhook_store_reconnects_total, kept current from
// store::StoreConnectivity::process() for as long as this object lives.
struct StoreMetrics {
  explicit StoreMetrics(MetricsRegistry& registry);

  Family<Gauge>& up;
  Family<Counter>& reconnects;
  store::StoreConnectivity::Subscription subscription;  // last: uses the two above
};

struct PollerMetrics {
  explicit PollerMetrics(MetricsRegistry& registry);

  // Everything one finished poll says (ok or failed). `cursor` is the feed's cursor after
  // the poll; the lag is measured against `now_ms`.
  void record_poll(const store::PollRecord& poll, std::optional<int64_t> cursor, int64_t now_ms);
  // Between polls, keeps the lag growing while OpenCTI is unreachable.
  void update_cursor_lag(std::string_view feed, std::optional<int64_t> cursor, int64_t now_ms);

  Family<Counter>& polls;
  Family<Histogram>& poll_duration;
  Family<Counter>& items;
  Family<Counter>& jobs_enqueued;
  Family<Counter>& duplicates_skipped;
  Family<Counter>& render_errors;
  Family<Gauge>& cursor_lag;
  Family<Gauge>& last_successful_poll;
  Family<Gauge>& feed_lease_held;         // {feed}: 1 while this poller is the feed's active one
  Family<Counter>& feed_lease_takeovers;  // {feed}: tenures this poller began after another
  StoreMetrics store;
};

struct DispatcherMetrics {
  explicit DispatcherMetrics(MetricsRegistry& registry);

  // One finished attempt of a job of `feed`.
  void record_outcome(const store::Outcome& outcome, std::string_view feed);
  // Queue depth per state (every state, zeros included) and the oldest pending job's age,
  // from JobStore::status().
  void update_queue(const std::vector<store::FeedStatus>& status, int64_t now_ms);

  Family<Counter>& attempts;
  Family<Histogram>& request_duration;
  Family<Gauge>& jobs_in_flight;
  Family<Gauge>& queue_jobs;
  Family<Gauge>& oldest_pending_age;
  Family<Counter>& dead_jobs;
  Family<Counter>& leases_reclaimed;
  StoreMetrics store;
};

}  // namespace webhook::metrics
