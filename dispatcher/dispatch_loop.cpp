#include "dispatcher/dispatch_loop.h"

#include <algorithm>
#include <random>

#include "common/logging.h"

namespace webhook::dispatcher {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kStoreErrorPause{1000};  // after a database error
constexpr milliseconds kStoppingTick{50};       // how often a second signal is noticed
constexpr milliseconds kBusyWorkerTick{1000};   // at most, while the worker has a request
constexpr int64_t kDayMs = 24 * 3600 * 1000;
// Under load, claim once a 1/kClaimDivisor of the slots is free, so one transaction serves
// many requests. Outcomes need no such rule: they wait while the worker commits the
// previous batch, so batches grow with the load by themselves.
constexpr int kClaimDivisor = 4;
// Claiming ahead: when requests are this fast on average, up to 8 x `concurrency` more jobs are
// claimed than there are free slots, so a slot is refilled the moment its request ends
// instead of a commit later. A job claimed ahead that found no slot within half the lease
// margin goes back uncharged, so its lease always outlasts its request.
constexpr double kClaimAheadBelowMs = 50;
constexpr int kClaimAheadFactor = 8;        // jobs claimed ahead, per slot
constexpr double kDurationSmoothing = 0.1;  // weight of the latest request in the mean

std::function<double()> default_random() {
  auto engine = std::make_shared<std::mt19937_64>(std::random_device{}());
  return [engine] { return std::uniform_real_distribution<double>(0.0, 1.0)(*engine); };
}

}  // namespace

DispatchLoop::DispatchLoop(store::JobStore& store, const Clock& clock, DispatcherSettings settings,
                           const StopSource& stop, std::function<double()> random)
    : clock_(clock),
      settings_(std::move(settings)),
      stop_(stop),
      random_(random ? std::move(random) : default_random()),
      client_(settings_.host_concurrency),
      store_worker_(store, settings_.worker, settings_.lease()) {
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
      // curl failed: nothing already finished is forgotten (outcomes_ keeps it), and the
      // loop tries again after a pause. (Database errors come back in the worker's replies.)
      log_event(spdlog::level::err, "dispatch loop error", {{"error", error.what()}});
      store_retry_at_ = clock_.now_ms() + kStoreErrorPause.count();
    }
    if (done_) break;
    notify_listeners(clock_.now_ms());
    const int watched[] = {stopping_ ? -1 : stop_.fd(), store_worker_.fd()};
    client_.wait(wait_time(clock_.now_ms()), watched);
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
  // The database thread first: it gets its next batch before this thread drives the
  // network, so that both work at once.
  if (std::optional<StoreReply> reply = store_worker_.take_reply()) {
    apply_reply(std::move(*reply), now);
  }
  submit(now);
  collect_finished();
  // Outcomes were timed after `now`: a retry due at once must count as due below.
  now = std::max(now, clock_.now_ms());

  if (!stopping_ && stop_.count() >= 1) begin_shutdown(now);
  start_ready(now);
  if (stopping_) {
    if (now >= grace_deadline_ && client_.in_flight() > 0) abort_in_flight();
    if (client_.in_flight() == 0 && ready_.empty() && outcomes_.empty() && releases_.empty() &&
        !store_worker_.busy()) {
      done_ = true;
      return;
    }
  }
  submit(now);
  if (settings_.once && nothing_left(now)) done_ = true;
}

void DispatchLoop::collect_finished() {
  for (auto& finished : client_.perform()) {
    const int64_t now = clock_.now_ms();
    TransferResult result = finished.transfer->result(finished.code);
    add_outcome(*finished.transfer, result, now);
    client_.recycle(std::move(finished.transfer));
  }
}

void DispatchLoop::apply_reply(StoreReply reply, int64_t now) {
  const int64_t claimed_at = in_hand_.submitted_at;
  if (reply.recorded) {
    if (in_hand_.delivered + in_hand_.retried + in_hand_.dead > 0) ++counters_.commits;
    counters_.outcomes += reply.record_result.applied;
    counters_.stale_outcomes += reply.record_result.stale;
    counters_.delivered += in_hand_.delivered;
    counters_.retried += in_hand_.retried;
    counters_.dead += in_hand_.dead;
    // After the commit, as the listeners expect; stale outcomes too (the call was made).
    for (std::size_t i = 0; i < reply.outcomes.size() && i < in_hand_.feeds.size(); ++i) {
      for (auto* listener : listeners_) listener->on_attempt(reply.outcomes[i], in_hand_.feeds[i]);
    }
    if (reply.record_result.stale > 0) {
      // Our lease ran out and another dispatcher took the job: its attempt counts, ours not.
      log_event(spdlog::level::warn, "outcomes dropped: lease no longer held",
                {{"stale", reply.record_result.stale}});
    }
  }
  if (reply.claim_ran) {
    ++counters_.claims;
    counters_.claimed += static_cast<int64_t>(reply.claimed.size());
    may_have_due_ = static_cast<int>(reply.claimed.size()) == in_hand_.claim_max;
    if (!may_have_due_) next_due_ = reply.next_due;
  }
  if (reply.recorded && in_hand_.earliest_retry) {
    next_due_ =
        next_due_ ? std::min(*next_due_, *in_hand_.earliest_retry) : *in_hand_.earliest_retry;
  }
  if (reply.reclaimed > 0) {
    log_event(spdlog::level::warn, "expired leases taken back", {{"jobs", reply.reclaimed}});
    for (auto* listener : listeners_) listener->on_leases_reclaimed(reply.reclaimed);
    may_have_due_ = true;
  }
  if (reply.pruned.jobs + reply.pruned.polls > 0) {
    log_event(spdlog::level::info, "history pruned",
              {{"jobs", reply.pruned.jobs},
               {"attempts", reply.pruned.attempts},
               {"polls", reply.pruned.polls}});
  }
  if (reply.released_count > 0) {
    log_event(spdlog::level::warn, "jobs put back unchanged", {{"released", reply.released_count}});
    // The store reports other connections' work, not our own: look for them again.
    may_have_due_ = true;
  }
  std::vector<std::string> feeds = std::exchange(in_hand_.feeds, {});
  in_hand_ = {};
  if (!reply.error.empty()) {
    // Nothing already finished is forgotten: what was not written goes back in front of
    // what came since, and the loop tries again after a pause.
    log_event(spdlog::level::err, "dispatch loop error", {{"error", reply.error}});
    store_retry_at_ = now + kStoreErrorPause.count();
    if (!reply.recorded) {
      outcomes_.insert(outcomes_.begin(), std::make_move_iterator(reply.outcomes.begin()),
                       std::make_move_iterator(reply.outcomes.end()));
      outcome_feeds_.insert(outcome_feeds_.begin(), std::make_move_iterator(feeds.begin()),
                            std::make_move_iterator(feeds.end()));
    }
    releases_.insert(releases_.begin(), std::make_move_iterator(reply.unreleased.begin()),
                     std::make_move_iterator(reply.unreleased.end()));
  }
  // The lease ran from the request's time, not from now.
  for (auto& job : reply.claimed) ready_.push_back(ReadyJob{std::move(job), claimed_at});
}

void DispatchLoop::start_ready(int64_t now) {
  const int64_t max_wait = settings_.lease_margin.count() / 2;
  while (!ready_.empty()) {
    // Stopping, or waited too long for a slot: back to pending, uncharged.
    if (stopping_ || now - ready_.front().claimed_at > max_wait) {
      releases_.push_back(ready_.front().job.id);
      ready_.pop_front();
      continue;
    }
    if (static_cast<int>(client_.in_flight()) >= settings_.concurrency) return;
    store::ClaimedJob job = std::move(ready_.front().job);
    ready_.pop_front();
    const int64_t started = clock_.now_ms();
    const WebhookSigner* signer = signer_for(job.feed);
    auto transfer = std::make_unique<Transfer>(std::move(job), settings_, signer, started,
                                               client_.reusable_handle());
    if (!transfer->setup_error().empty()) {
      add_unsendable(transfer->take_job(), transfer->setup_error(), started);
      continue;
    }
    client_.add(std::move(transfer));
  }
}

int DispatchLoop::claimable() const {
  const int ahead =
      mean_duration_ms_ < kClaimAheadBelowMs ? kClaimAheadFactor * settings_.concurrency : 0;
  return settings_.concurrency + ahead - static_cast<int>(client_.in_flight()) -
         static_cast<int>(ready_.size());
}

bool DispatchLoop::claim_has_room() const {
  const int free = claimable();
  // Under load, wait for a quarter of the slots to free up so one claim serves many
  // requests; when idle, claim at once.
  const int batch = std::max(1, settings_.concurrency / kClaimDivisor);
  return free > 0 && (free >= batch || (client_.in_flight() == 0 && ready_.empty()));
}

int DispatchLoop::claim_size(int64_t now, std::optional<milliseconds>& wait_for_work) {
  if (!claim_has_room()) return 0;
  const int free = claimable();
  if (may_have_due_ || (next_due_ && *next_due_ <= now)) return free;
  // --once delivers what is due now; it does not wait for more.
  if (settings_.once) return 0;
  // Nothing known to be due: claim only once the store says work came (the poller
  // committed), waiting for it on the worker's thread; see submit() for how long.
  wait_for_work = idle_wait(now);
  return free;
}

milliseconds DispatchLoop::idle_wait(int64_t now) const {
  int64_t until = std::min({next_reclaim_, next_heartbeat_, next_prune_}) - now;
  if (next_due_) until = std::min(until, *next_due_ - now);
  if (!ready_.empty()) {
    until =
        std::min(until, ready_.front().claimed_at + settings_.lease_margin.count() / 2 + 1 - now);
  }
  return milliseconds(std::max<int64_t>(0, until));
}

void DispatchLoop::submit(int64_t now) {
  if (store_worker_.busy()) {
    // A request waiting for work holds the worker: get it back when there is something
    // to write or the loop is stopping.
    if (in_hand_.waits && (stopping_ || !outcomes_.empty() || !releases_.empty())) {
      store_worker_.interrupt();
    }
    return;
  }
  if (now < store_retry_at_) return;
  StoreRequest request;
  request.now = now;
  if (!stopping_) {
    request.claim_max = claim_size(now, request.wait_for_work);
    if (now >= next_reclaim_) {
      request.reclaim = true;  // a dispatcher killed earlier may have left leases behind
      next_reclaim_ = now + settings_.reclaim_every.count();
    }
    if (now >= next_heartbeat_) {
      request.heartbeat = true;
      next_heartbeat_ = now + settings_.heartbeat_every.count();
    }
    if (now >= next_prune_) {
      request.prune_before = now - settings_.retention_days * kDayMs;
      request.prune_batch = settings_.prune_batch;
      next_prune_ = now + settings_.prune_every.count();
    }
  }
  if (outcomes_.empty() && notes_.empty() && releases_.empty() && request.claim_max == 0 &&
      !request.reclaim && !request.heartbeat && !request.prune_before) {
    return;
  }
  // With anything else to do, the request only looks for work; it never waits.
  if (request.wait_for_work && (!outcomes_.empty() || !notes_.empty() || !releases_.empty() ||
                                request.reclaim || request.heartbeat || request.prune_before)) {
    request.wait_for_work = milliseconds(0);
  }
  in_hand_ = {};
  in_hand_.claim_max = request.claim_max;
  in_hand_.waits = request.wait_for_work && request.wait_for_work->count() > 0;
  in_hand_.submitted_at = now;
  for (const auto& outcome : outcomes_) {
    in_hand_.delivered += outcome.kind == store::OutcomeKind::kDelivered;
    in_hand_.dead += outcome.kind == store::OutcomeKind::kDead;
    if (outcome.kind == store::OutcomeKind::kRetry) {
      ++in_hand_.retried;
      in_hand_.earliest_retry =
          std::min(in_hand_.earliest_retry.value_or(INT64_MAX), outcome.next_attempt_at);
    }
  }
  in_hand_.feeds = std::exchange(outcome_feeds_, {});
  request.outcomes = std::exchange(outcomes_, {});
  request.notes = std::exchange(notes_, {});
  request.releases = std::exchange(releases_, {});
  store_worker_.submit(std::move(request));
}

void DispatchLoop::add_outcome(Transfer& transfer, const TransferResult& result, int64_t now) {
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
  outcome.attempt_number = job.attempt_number;
  outcome.worker = settings_.worker;
  outcome.kind = decision.kind;
  outcome.next_attempt_at = decision.next_attempt_at;
  outcome.started_at = transfer.started_at();
  outcome.duration_ms = std::max<int64_t>(0, now - transfer.started_at());
  mean_duration_ms_ +=
      kDurationSmoothing * (static_cast<double>(outcome.duration_ms) - mean_duration_ms_);
  outcome.http_status = result.http_status;
  outcome.error = result.error;
  if (decision.kind == store::OutcomeKind::kDead) outcome.error += "; dead: " + decision.reason;
  outcome.response_head = result.response_head;
  queue_outcome(transfer.take_job(), std::move(outcome), decision.reason);
}

void DispatchLoop::add_unsendable(store::ClaimedJob job, const std::string& error, int64_t now) {
  store::Outcome outcome;
  outcome.job_id = job.id;
  outcome.lease_token = job.lease_token;
  outcome.attempt_number = job.attempt_number;
  outcome.worker = settings_.worker;
  outcome.started_at = now;
  AttemptFacts facts{job.attempts + 1, job.max_attempts, job.created_at, std::nullopt, {}};
  const RetryDecision decision =
      decide_retry(settings_.feed(job.feed).retry, facts, now, random_());
  outcome.kind = decision.kind;
  outcome.next_attempt_at = decision.next_attempt_at;
  outcome.error = "cannot build the request: " + error;
  queue_outcome(std::move(job), std::move(outcome), decision.reason);
}

void DispatchLoop::queue_outcome(store::ClaimedJob job, store::Outcome outcome,
                                 std::string reason) {
  AttemptNote note{std::move(job), {}, std::move(reason)};
  note.outcome.job_id = outcome.job_id;
  note.outcome.kind = outcome.kind;
  note.outcome.next_attempt_at = outcome.next_attempt_at;
  note.outcome.duration_ms = outcome.duration_ms;
  note.outcome.http_status = outcome.http_status;
  note.outcome.error = outcome.error;
  outcome_feeds_.push_back(note.job.feed);
  notes_.push_back(std::move(note));
  outcomes_.push_back(std::move(outcome));
}

bool DispatchLoop::nothing_left(int64_t now) const {
  return client_.in_flight() == 0 && ready_.empty() && outcomes_.empty() && releases_.empty() &&
         !store_worker_.busy() && !may_have_due_ && (!next_due_ || *next_due_ > now);
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
  // A busy worker wakes the loop through its descriptor when it is done; housekeeping that
  // fell due meanwhile waits for it (submit() cannot hand it over before), so it must not
  // make this thread spin while a slow transaction runs.
  int64_t until = store_worker_.busy()
                      ? kBusyWorkerTick.count()
                      : std::min({next_reclaim_, next_heartbeat_, next_prune_}) - now;
  if (!ready_.empty()) {
    until =
        std::min(until, ready_.front().claimed_at + settings_.lease_margin.count() / 2 + 1 - now);
  }
  // A claim waits for room (see claim_size); with none, finishing requests wake the loop.
  if (!store_worker_.busy() && claim_has_room() && next_due_) {
    until = std::min(until, *next_due_ - now);
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

void DispatchLoop::abort_in_flight() {
  std::vector<std::unique_ptr<Transfer>> aborted = client_.abort_all();
  for (const auto& transfer : aborted) releases_.push_back(transfer->job().id);
  log_event(spdlog::level::warn, "grace period over: requests aborted, jobs to be put back",
            {{"aborted", aborted.size()}});
}

}  // namespace webhook::dispatcher
