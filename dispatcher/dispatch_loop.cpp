#include "dispatcher/dispatch_loop.h"

#include <algorithm>
#include <random>

#include "common/logging.h"
#include "dispatcher/attempt_log.h"

namespace webhook::dispatcher {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kStoreErrorPause{1000};  // after a database error
constexpr milliseconds kStoppingTick{50};       // how often a second signal is noticed
constexpr int64_t kDayMs = 24 * 3600 * 1000;
// Batching: claim when a 1/kClaimDivisor of the slots is free, commit outcomes when
// 1/kFlushDivisor of the concurrency finished or the oldest waited kMaxCommitDelay.
constexpr int kClaimDivisor = 4;
constexpr int kFlushDivisor = 2;
constexpr milliseconds kMaxCommitDelay{10};

std::function<double()> default_random() {
  auto engine = std::make_shared<std::mt19937_64>(std::random_device{}());
  return [engine] { return std::uniform_real_distribution<double>(0.0, 1.0)(*engine); };
}

}  // namespace

DispatchLoop::DispatchLoop(store::JobStore& store, const Clock& clock, DispatcherSettings settings,
                           const StopSource& stop, std::function<double()> random)
    : store_(store),
      clock_(clock),
      settings_(std::move(settings)),
      stop_(stop),
      random_(random ? std::move(random) : default_random()),
      client_(settings_.host_concurrency) {
  for (const auto& [name, feed] : settings_.feeds) {
    if (feed.secret) signers_[name] = std::make_unique<WebhookSigner>(*feed.secret);
  }
  if (settings_.fallback.secret) {
    fallback_signer_ = std::make_unique<WebhookSigner>(*settings_.fallback.secret);
  }
}

DispatchLoop::~DispatchLoop() = default;

const WebhookSigner* DispatchLoop::signer_for(const std::string& feed) const {
  if (settings_.feeds.count(feed) != 0) {
    auto it = signers_.find(feed);
    return it == signers_.end() ? nullptr : it->second.get();
  }
  return fallback_signer_.get();
}

LoopExit DispatchLoop::run() {
  const int64_t start = clock_.now_ms();
  next_reclaim_ = start;  // a dispatcher killed earlier may have left leases behind
  next_heartbeat_ = start;
  next_prune_ = start;
  log_event(spdlog::level::info, "dispatcher started",
            {{"worker", settings_.worker},
             {"concurrency", settings_.concurrency},
             {"host_concurrency", settings_.host_concurrency},
             {"lease_ms", settings_.lease().count()},
             {"once", settings_.once}});
  while (!done_) {
    if (stop_.count() >= 2) {
      log_event(spdlog::level::warn, "second stop signal: exiting at once",
                {{"in_flight", client_.in_flight()}});
      return LoopExit::kForced;
    }
    const int64_t now = clock_.now_ms();
    try {
      turn(now);
    } catch (const std::exception& error) {
      // The database or curl failed: nothing already finished is forgotten (outcomes_
      // keeps it), and the loop tries again after a pause.
      log_event(spdlog::level::err, "dispatch loop error", {{"error", error.what()}});
      store_retry_at_ = clock_.now_ms() + kStoreErrorPause.count();
    }
    if (done_) break;
    notify_listeners(clock_.now_ms());
    client_.wait(wait_time(clock_.now_ms()), stopping_ ? -1 : stop_.fd());
  }
  log_event(spdlog::level::info, "dispatcher stopped",
            {{"worker", settings_.worker},
             {"turns", counters_.turns},
             {"claims", counters_.claims},
             {"claimed", counters_.claimed},
             {"commits", counters_.commits},
             {"outcomes", counters_.outcomes},
             {"delivered", counters_.delivered},
             {"retried", counters_.retried},
             {"dead", counters_.dead}});
  return LoopExit::kFinished;
}

void DispatchLoop::notify_listeners(int64_t now) {
  listener_wake_.reset();
  for (auto* listener : listeners_) {
    if (auto wake = listener->on_turn(now)) {
      listener_wake_ = listener_wake_ ? std::min(*listener_wake_, *wake) : *wake;
    }
  }
}

void DispatchLoop::turn(int64_t now) {
  ++counters_.turns;
  collect_finished();
  const bool store_ok = now >= store_retry_at_;
  if (store_ok && should_flush(now)) flush_outcomes(now);
  // Outcomes were timed after `now`: a retry due at once must count as due below.
  now = std::max(now, clock_.now_ms());

  if (!stopping_ && stop_.count() >= 1) begin_shutdown(now);
  if (stopping_) {
    if (client_.in_flight() == 0 && outcomes_.empty()) {
      done_ = true;
    } else if (now >= grace_deadline_ && store_ok) {
      abort_and_release(now);
      done_ = flush_outcomes(now);
    }
    return;
  }
  if (!store_ok) return;
  housekeeping(now);
  start_due_jobs(now);
  if (settings_.once && nothing_left(now)) done_ = true;
}

void DispatchLoop::collect_finished() {
  for (auto& finished : client_.perform()) {
    const int64_t now = clock_.now_ms();
    TransferResult result = finished.transfer->result(finished.code);
    if (outcomes_.empty()) first_outcome_at_ = now;
    outcomes_.push_back(make_outcome(*finished.transfer, result, now));
    outcome_feeds_.push_back(finished.transfer->job().feed);
    client_.recycle(std::move(finished.transfer));
  }
}

bool DispatchLoop::should_flush(int64_t now) const {
  if (outcomes_.empty()) return false;
  // Under load, one transaction for many outcomes; never later than kMaxCommitDelay, and at
  // once when nothing else is running (low load, shutdown).
  const auto batch = static_cast<std::size_t>(std::max(1, settings_.concurrency / kFlushDivisor));
  return stopping_ || client_.in_flight() == 0 || outcomes_.size() >= batch ||
         now - first_outcome_at_ >= kMaxCommitDelay.count();
}

store::Outcome DispatchLoop::make_outcome(const Transfer& transfer, const TransferResult& result,
                                          int64_t now) {
  const store::ClaimedJob& job = transfer.job();
  AttemptFacts facts;
  facts.attempt_number = job.attempts + 1;
  facts.max_attempts = job.max_attempts;
  facts.created_at = job.created_at;
  facts.http_status = result.http_status;
  facts.retry_after = result.retry_after;
  const RetryDecision decision =
      decide_retry(settings_.feed(job.feed).retry, facts, now, random_());

  store::Outcome outcome;
  outcome.job_id = job.id;
  outcome.lease_token = job.lease_token;
  outcome.worker = settings_.worker;
  outcome.kind = decision.kind;
  outcome.next_attempt_at = decision.next_attempt_at;
  outcome.started_at = transfer.started_at();
  outcome.duration_ms = std::max<int64_t>(0, now - transfer.started_at());
  outcome.http_status = result.http_status;
  outcome.error = result.error;
  if (decision.kind == store::OutcomeKind::kDead) outcome.error += "; dead: " + decision.reason;
  outcome.response_head = result.response_head;
  log_attempt(job, outcome, decision.reason);
  return outcome;
}

store::Outcome DispatchLoop::unsendable(const store::ClaimedJob& job, const std::string& error,
                                        int64_t now) {
  store::Outcome outcome;
  outcome.job_id = job.id;
  outcome.lease_token = job.lease_token;
  outcome.worker = settings_.worker;
  outcome.started_at = now;
  AttemptFacts facts{job.attempts + 1, job.max_attempts, job.created_at, std::nullopt, {}};
  const RetryDecision decision =
      decide_retry(settings_.feed(job.feed).retry, facts, now, random_());
  outcome.kind = decision.kind;
  outcome.next_attempt_at = decision.next_attempt_at;
  outcome.error = "cannot build the request: " + error;
  log_attempt(job, outcome, decision.reason);
  return outcome;
}

bool DispatchLoop::flush_outcomes(int64_t now) {
  if (outcomes_.empty()) return true;
  const store::RecordResult recorded = store_.record_outcomes(outcomes_, now);
  ++counters_.commits;
  counters_.outcomes += recorded.applied;
  counters_.stale_outcomes += recorded.stale;
  if (recorded.stale > 0) {
    // Our lease ran out and another dispatcher took the job: its attempt counts, ours not.
    log_event(spdlog::level::warn, "outcomes dropped: lease no longer held",
              {{"stale", recorded.stale}});
  }
  for (std::size_t i = 0; i < outcomes_.size(); ++i) {
    const store::Outcome& outcome = outcomes_[i];
    for (auto* listener : listeners_) listener->on_attempt(outcome, outcome_feeds_[i]);
    counters_.delivered += outcome.kind == store::OutcomeKind::kDelivered;
    counters_.dead += outcome.kind == store::OutcomeKind::kDead;
    counters_.retried += outcome.kind == store::OutcomeKind::kRetry;
    if (outcome.kind == store::OutcomeKind::kRetry) {
      next_due_ =
          next_due_ ? std::min(*next_due_, outcome.next_attempt_at) : outcome.next_attempt_at;
    }
  }
  outcomes_.clear();
  outcome_feeds_.clear();
  return true;
}

void DispatchLoop::housekeeping(int64_t now) {
  if (now >= next_reclaim_) {
    if (int reclaimed = store_.reclaim_expired_leases(now); reclaimed > 0) {
      log_event(spdlog::level::warn, "expired leases taken back", {{"jobs", reclaimed}});
      for (auto* listener : listeners_) listener->on_leases_reclaimed(reclaimed);
      may_have_due_ = true;
    }
    next_reclaim_ = now + settings_.reclaim_every.count();
  }
  if (now >= next_heartbeat_) {
    store_.heartbeat("dispatcher", settings_.worker, now);
    next_heartbeat_ = now + settings_.heartbeat_every.count();
  }
  if (now >= next_prune_) {
    const store::PruneResult pruned =
        store_.prune(now - settings_.retention_days * kDayMs, settings_.prune_batch);
    if (pruned.jobs + pruned.polls > 0) {
      log_event(spdlog::level::info, "history pruned",
                {{"jobs", pruned.jobs}, {"attempts", pruned.attempts}, {"polls", pruned.polls}});
    }
    next_prune_ = now + settings_.prune_every.count();
  }
}

void DispatchLoop::start_due_jobs(int64_t now) {
  const int free = settings_.concurrency - static_cast<int>(client_.in_flight());
  if (free <= 0) return;
  if (const int64_t version = store_.data_version(); version != data_version_) {
    data_version_ = version;  // another process committed: maybe new jobs
    may_have_due_ = true;
  }
  const bool due = may_have_due_ || (next_due_ && *next_due_ <= now);
  if (!due) return;
  // Under load, wait for a quarter of the slots to free up so one claim transaction serves
  // many requests; when idle, claim at once.
  const int batch = std::max(1, settings_.concurrency / kClaimDivisor);
  if (free < batch && client_.in_flight() > 0) return;

  std::vector<store::ClaimedJob> jobs =
      store_.claim(settings_.worker, free, settings_.lease(), now);
  ++counters_.claims;
  counters_.claimed += static_cast<int64_t>(jobs.size());
  may_have_due_ = static_cast<int>(jobs.size()) == free;
  if (!may_have_due_) next_due_ = store_.next_due_at();
  for (auto& job : jobs) {
    const int64_t started = clock_.now_ms();
    const WebhookSigner* signer = signer_for(job.feed);
    auto transfer = std::make_unique<Transfer>(std::move(job), settings_, signer, started,
                                               client_.reusable_handle());
    if (!transfer->setup_error().empty()) {
      if (outcomes_.empty()) first_outcome_at_ = started;
      outcomes_.push_back(unsendable(transfer->job(), transfer->setup_error(), started));
      outcome_feeds_.push_back(transfer->job().feed);
      continue;
    }
    client_.add(std::move(transfer));
  }
}

bool DispatchLoop::nothing_left(int64_t now) const {
  return client_.in_flight() == 0 && outcomes_.empty() && !may_have_due_ &&
         (!next_due_ || *next_due_ > now);
}

std::chrono::milliseconds DispatchLoop::wait_time(int64_t now) const {
  const milliseconds loop_wait = own_wait_time(now);
  if (!listener_wake_) return loop_wait;
  return std::clamp(milliseconds(*listener_wake_ - now), milliseconds(0), loop_wait);
}

std::chrono::milliseconds DispatchLoop::own_wait_time(int64_t now) const {
  if (stopping_) {
    return std::clamp(milliseconds(grace_deadline_ - now), milliseconds(0), kStoppingTick);
  }
  if (now < store_retry_at_) return milliseconds(store_retry_at_ - now);
  int64_t until = std::min({next_reclaim_, next_heartbeat_, next_prune_}) - now;
  if (!outcomes_.empty()) {
    until = std::min(until, first_outcome_at_ + kMaxCommitDelay.count() - now);
  }
  const bool has_room = static_cast<int>(client_.in_flight()) < settings_.concurrency;
  if (has_room) {
    until = std::min<int64_t>(until, settings_.idle_check.count());
    if (next_due_) until = std::min(until, *next_due_ - now);
  }
  return milliseconds(std::max<int64_t>(0, until));
}

void DispatchLoop::begin_shutdown(int64_t now) {
  stopping_ = true;
  for (auto* listener : listeners_) listener->on_stopping();
  grace_deadline_ = now + settings_.shutdown_grace.count();
  log_event(spdlog::level::info, "stopping: no new claims, waiting for requests in flight",
            {{"in_flight", client_.in_flight()}, {"grace_ms", settings_.shutdown_grace.count()}});
}

void DispatchLoop::abort_and_release(int64_t now) {
  std::vector<std::unique_ptr<Transfer>> aborted = client_.abort_all();
  if (aborted.empty()) return;
  std::vector<std::string> ids;
  ids.reserve(aborted.size());
  for (const auto& transfer : aborted) ids.push_back(transfer->job().id);
  const int released = store_.release(settings_.worker, ids, now);
  log_event(spdlog::level::warn, "grace period over: requests aborted, jobs put back unchanged",
            {{"aborted", ids.size()}, {"released", released}});
}

}  // namespace webhook::dispatcher
