#include "dispatcher/dispatch_loop.h"

#include <algorithm>
#include <limits>
#include <random>

#include "common/logging.h"

namespace webhook::dispatcher {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kStoreErrorPause{1000};  // after a database error
constexpr milliseconds kStoppingTick{50};       // how often a second signal is noticed
constexpr milliseconds kBusyWorkerTick{1000};   // at most, while the worker has a request
constexpr int64_t kDayMs = 24 * 3600 * 1000;
// How much a claim takes is the ClaimPacer's affair. Outcomes need no such rule: they wait
// while the worker commits the previous batch, so batches grow with the load by themselves.

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
      pacer_(settings_.concurrency, settings_.lease_margin),
      store_worker_(store, settings_.worker, settings_.lease()) {
  if (settings_.cluster_host_concurrency) {
    cluster_.emplace(*settings_.cluster_host_concurrency, settings_.host_concurrency,
                     settings_.worker, settings_.heartbeat_every);
  }
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
             {"cluster_host_concurrency", settings_.cluster_host_concurrency.value_or(0)},
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
      // curl failed: nothing already finished is forgotten (attempts_ keeps it), and the
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
    if (client_.in_flight() == 0 && ready_.empty() && attempts_.empty() && releases_.empty() &&
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
    if (cluster_) host_slots_.finished(HostSlots::key(finished.transfer->job().url));
    TransferResult result = finished.transfer->result(finished.code);
    add_outcome(*finished.transfer, result, now);
    client_.recycle(std::move(finished.transfer));
  }
}

void DispatchLoop::apply_reply(StoreReply reply, int64_t now) {
  const int64_t claimed_at = in_hand_.submitted_at;
  const AttemptBatch& attempts = reply.attempts;
  if (reply.recorded) {
    if (!attempts.empty()) ++counters_.commits;
    counters_.outcomes += reply.record_result.applied;
    counters_.stale_outcomes += reply.record_result.stale;
    counters_.delivered += attempts.delivered();
    counters_.retried += attempts.retried();
    counters_.dead += attempts.dead();
    // After the commit, as the listeners expect; stale outcomes too (the call was made).
    for (std::size_t i = 0; i < attempts.size(); ++i) {
      for (auto* listener : listeners_) {
        listener->on_attempt(attempts.outcomes()[i], attempts.notes()[i].job.feed);
      }
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
  if (reply.recorded && attempts.earliest_retry()) {
    const int64_t retry = *attempts.earliest_retry();
    next_due_ = next_due_ ? std::min(*next_due_, retry) : retry;
  }
  if (reply.reclaimed > 0) {
    log_event(spdlog::level::warn, "expired leases taken back", {{"jobs", reply.reclaimed}});
    for (auto* listener : listeners_) listener->on_leases_reclaimed(reply.reclaimed);
    may_have_due_ = true;
  }
  if (cluster_ && reply.members) apply_members(*reply.members, now);
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
  in_hand_ = {};
  if (!reply.error.empty()) {
    // Nothing already finished is forgotten: what was not written goes back in front of
    // what came since, and the loop tries again after a pause.
    log_event(spdlog::level::err, "dispatch loop error", {{"error", reply.error}});
    store_retry_at_ = now + kStoreErrorPause.count();
    if (!reply.recorded) attempts_.prepend(std::move(reply.attempts));
    releases_.insert(releases_.begin(), std::make_move_iterator(reply.unreleased.begin()),
                     std::make_move_iterator(reply.unreleased.end()));
  }
  // The lease ran from the request's time, not from now.
  for (auto& job : reply.claimed) ready_.push_back(ReadyJob{std::move(job), claimed_at});
}

void DispatchLoop::start_ready(int64_t now) {
  if (cluster_) {
    start_ready_capped(now);
    return;
  }
  while (!ready_.empty()) {
    // Stopping, or waited too long for a slot: back to pending, uncharged.
    if (stopping_ || now > pacer_.slot_deadline(ready_.front().claimed_at)) {
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

void DispatchLoop::start_ready_capped(int64_t now) {
  const int limit = cluster_->limit(now);
  for (auto it = ready_.begin(); it != ready_.end();) {
    if (stopping_ || limit == 0 || now > pacer_.slot_deadline(it->claimed_at)) {
      releases_.push_back(it->job.id);
      it = ready_.erase(it);
      continue;
    }
    if (static_cast<int>(client_.in_flight()) >= settings_.concurrency) return;
    std::string host = HostSlots::key(it->job.url);
    if (host_slots_.in_flight(host) >= limit) {
      ++it;  // its host is full: it waits, later jobs to other hosts may go
      continue;
    }
    store::ClaimedJob job = std::move(it->job);
    it = ready_.erase(it);
    host_slots_.started(host);
    start_transfer(std::move(job));
  }
}

void DispatchLoop::start_transfer(store::ClaimedJob job) {
  const int64_t started = clock_.now_ms();
  const WebhookSigner* signer = signer_for(job.feed);
  auto transfer = std::make_unique<Transfer>(std::move(job), settings_, signer, started,
                                             client_.reusable_handle());
  if (!transfer->setup_error().empty()) {
    if (cluster_) host_slots_.finished(HostSlots::key(transfer->job().url));
    add_unsendable(transfer->take_job(), transfer->setup_error(), started);
    return;
  }
  client_.add(std::move(transfer));
}

void DispatchLoop::apply_members(const std::vector<store::HeartbeatRow>& rows, int64_t now) {
  if (!cluster_->update(rows, now)) return;
  log_event(spdlog::level::info, "cluster share",
            {{"cap", cluster_->cap()},
             {"live", cluster_->live()},
             {"share", cluster_->share(now)},
             {"wanted", cluster_->wanted().value_or(cluster_->share(now))}});
}

bool DispatchLoop::claim_has_room() const {
  return pacer_.worth_claiming(static_cast<int>(client_.in_flight()),
                               static_cast<int>(ready_.size()));
}

DispatchLoop::ClaimPlan DispatchLoop::plan_claim(int64_t now) const {
  if (!claim_has_room()) return {};
  const int room = cluster_claimable(now);
  if (room <= 0) return {};
  const int free = std::min(room, pacer_.claimable(static_cast<int>(client_.in_flight()),
                                                   static_cast<int>(ready_.size())));
  if (may_have_due_ || (next_due_ && *next_due_ <= now)) return {free, std::nullopt};
  // --once delivers what is due now; it does not wait for more.
  if (settings_.once) return {};
  // Nothing known to be due: claim only once the store says work came (the poller
  // committed), waiting for it on the worker's thread; see submit() for how long.
  return {free, idle_wait(now)};
}

int DispatchLoop::cluster_claimable(int64_t now) const {
  if (!cluster_) return std::numeric_limits<int>::max();
  // A share of 0 (yet): the jobs are left to the dispatchers that have one. Otherwise no
  // claiming ahead: a job of a host at its share waits here (held from the other
  // dispatchers) until the slot deadline, so hold no more than WEBHOOK_CONCURRENCY, as
  // curl's queue did under the per-process limit.
  if (cluster_->limit(now) == 0) return 0;
  return settings_.concurrency - static_cast<int>(client_.in_flight() + ready_.size());
}

milliseconds DispatchLoop::idle_wait(int64_t now) const {
  int64_t until = std::min({next_reclaim_, next_heartbeat_, next_prune_}) - now;
  if (next_due_) until = std::min(until, *next_due_ - now);
  if (!ready_.empty())
    until = std::min(until, pacer_.slot_deadline(ready_.front().claimed_at) + 1 - now);
  return milliseconds(std::max<int64_t>(0, until));
}

void DispatchLoop::submit(int64_t now) {
  if (store_worker_.busy()) {
    // A request waiting for work holds the worker: get it back when there is something
    // to write or the loop is stopping.
    if (in_hand_.waits && (stopping_ || !attempts_.empty() || !releases_.empty())) {
      store_worker_.interrupt();
    }
    return;
  }
  if (now < store_retry_at_) return;
  StoreRequest request;
  request.now = now;
  if (!stopping_) {
    const ClaimPlan plan = plan_claim(now);
    request.claim_max = plan.max;
    request.wait_for_work = plan.wait_for_work;
    if (now >= next_reclaim_) {
      request.reclaim = true;  // a dispatcher killed earlier may have left leases behind
      next_reclaim_ = now + settings_.reclaim_every.count();
    }
    if (now >= next_heartbeat_) {
      request.heartbeat = true;
      request.read_members = cluster_.has_value();
      next_heartbeat_ = now + settings_.heartbeat_every.count();
    }
    if (now >= next_prune_) {
      request.prune_before = now - settings_.retention_days * kDayMs;
      request.prune_batch = settings_.prune_batch;
      next_prune_ = now + settings_.prune_every.count();
    }
  }
  const bool other_work = !attempts_.empty() || !releases_.empty() || request.reclaim ||
                          request.heartbeat || request.prune_before.has_value();
  if (!other_work && request.claim_max == 0) return;
  // With anything else to do, the request only looks for work; it never waits.
  if (request.wait_for_work && other_work) request.wait_for_work = milliseconds(0);
  in_hand_ = {};
  in_hand_.claim_max = request.claim_max;
  in_hand_.waits = request.wait_for_work && request.wait_for_work->count() > 0;
  in_hand_.submitted_at = now;
  request.attempts = std::exchange(attempts_, {});
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
  pacer_.request_took(outcome.duration_ms);
  outcome.http_status = result.http_status;
  outcome.error = result.error;
  if (decision.kind == store::OutcomeKind::kDead) outcome.error += "; dead: " + decision.reason;
  outcome.response_head = result.response_head;
  attempts_.add(std::move(outcome), transfer.take_job(), decision.reason);
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
  attempts_.add(std::move(outcome), std::move(job), decision.reason);
}

bool DispatchLoop::nothing_left(int64_t now) const {
  const bool idle = client_.in_flight() == 0 && ready_.empty() && attempts_.empty() &&
                    releases_.empty() && !store_worker_.busy();
  // A standby under the cluster cap (no share, none coming) may send nothing: --once ends.
  if (idle && cluster_ && cluster_->live() > 0 && cluster_->limit(now) == 0 &&
      !cluster_->wanted()) {
    return true;
  }
  return idle && !may_have_due_ && (!next_due_ || *next_due_ > now);
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
  if (!ready_.empty())
    until = std::min(until, pacer_.slot_deadline(ready_.front().claimed_at) + 1 - now);
  // A claim waits for room (see ClaimPacer); with none, finishing requests wake the loop.
  if (!store_worker_.busy() && claim_has_room() && cluster_claimable(now) > 0 && next_due_) {
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
  for (const auto& transfer : aborted) {
    if (cluster_) host_slots_.finished(HostSlots::key(transfer->job().url));
    releases_.push_back(transfer->job().id);
  }
  log_event(spdlog::level::warn, "grace period over: requests aborted, jobs to be put back",
            {{"aborted", aborted.size()}});
}

}  // namespace webhook::dispatcher
