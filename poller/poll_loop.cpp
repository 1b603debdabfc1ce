#include "poller/poll_loop.h"

#include <unistd.h>

#include <algorithm>
#include <exception>

#include "common/logging.h"

namespace webhook::poller {
namespace {

constexpr std::chrono::milliseconds kFirstBackoff{1000};

std::string hostname_and_pid() {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  return std::string(host) + ":" + std::to_string(getpid());
}

}  // namespace

PollLoop::PollLoop(std::vector<std::unique_ptr<FeedPoller>> feeds, const Clock& clock,
                   StopToken& stop, store::JobStore* store, FeedLeaseKeeper* leases)
    : clock_(clock), stop_(stop), store_(store), leases_(leases), worker_(hostname_and_pid()) {
  int64_t now = clock_.now_ms();
  for (auto& feed : feeds) feeds_.push_back(Schedule{std::move(feed), now, 0, std::nullopt});
}

std::chrono::milliseconds PollLoop::backoff(int failures, std::chrono::milliseconds interval) {
  auto delay = kFirstBackoff;
  for (int i = 1; i < failures && delay < interval; ++i) delay *= 2;
  return std::min(delay, interval);
}

PollResult PollLoop::poll(Schedule& schedule) {
  FeedPoller& feed = *schedule.poller;
  auto interval = feed.feed().config.polling_interval;
  PollResult result;
  const std::optional<int64_t> epoch = schedule.epoch;
  // A lease lost during the poll abandons it: another poller polls the feed now.
  auto cancel = [&] {
    return stop_.stop_requested() || (leases_ != nullptr && leases_->held(feed.name()) != epoch);
  };
  try {
    result = feed.poll(cancel, true, leases_ != nullptr ? epoch : std::nullopt);
  } catch (const std::exception& e) {
    // The store failed (disk full, locked too long): nothing was committed; retry later.
    result.status = PollStatus::kFailed;
    result.record.started_at = clock_.now_ms();
    result.record.error = e.what();
  }
  int64_t now = clock_.now_ms();
  const auto& r = result.record;
  switch (result.status) {
    case PollStatus::kOk:
      schedule.failures = 0;
      schedule.next_due = r.started_at + interval.count();
      log_event(spdlog::level::info, "poll ok",
                {{"feed", feed.name()},
                 {"window_from", r.window_from},
                 {"window_to", r.window_to},
                 {"pages", result.pages},
                 {"items", r.items_found},
                 {"enqueued", r.jobs_enqueued},
                 {"duplicates", r.duplicates_skipped},
                 {"render_errors", r.render_errors},
                 {"duration_ms", r.finished_at - r.started_at}});
      break;
    case PollStatus::kFailed: {
      ++schedule.failures;
      auto delay = backoff(schedule.failures, interval);
      schedule.next_due = now + delay.count();
      log_event(spdlog::level::warn, "poll failed; the cursor stays, the window is asked again",
                {{"feed", feed.name()},
                 {"error", r.error},
                 {"failures", schedule.failures},
                 {"retry_in_ms", delay.count()}});
      break;
    }
    case PollStatus::kConflict:
      schedule.next_due = now;
      log_event(spdlog::level::info,
                "the cursor was moved meanwhile (webhookctl rewind?); polling again",
                {{"feed", feed.name()}});
      break;
    case PollStatus::kAbandoned:
      if (stop_.stop_requested()) {
        log_event(spdlog::level::info, "poll abandoned: shutting down", {{"feed", feed.name()}});
      } else {
        schedule.epoch.reset();
        log_event(spdlog::level::warn,
                  "poll thrown away: the feed's lease was lost meanwhile; standing by",
                  {{"feed", feed.name()}, {"epoch", epoch.value_or(0)}});
      }
      break;
    case PollStatus::kLeaseLost:
      schedule.epoch.reset();
      if (leases_ != nullptr && epoch) leases_->lost(feed.name(), *epoch);
      log_event(spdlog::level::warn,
                "poll thrown away: the store refused it, the feed's lease was lost; standing by",
                {{"feed", feed.name()}, {"epoch", epoch.value_or(0)}, {"error", r.error}});
      break;
  }
  for (auto* listener : listeners_) listener->on_poll(feed, result);
  return result;
}

bool PollLoop::active(Schedule& schedule, int64_t now) {
  if (leases_ == nullptr) return true;
  const std::optional<int64_t> held = leases_->held(schedule.poller->name());
  if (!held) {
    if (schedule.epoch) {
      log_event(spdlog::level::warn, "the feed's lease is no longer held: standing by",
                {{"feed", schedule.poller->name()}, {"epoch", *schedule.epoch}});
    }
    schedule.epoch.reset();
    return false;
  }
  if (held != schedule.epoch) {
    // A new tenure: whatever this process knew of the feed may be stale; poll at once from
    // the stored cursor, which is where the last holder left off.
    schedule.epoch = held;
    schedule.next_due = now;
    schedule.failures = 0;
  }
  return true;
}

int64_t PollLoop::run_due() {
  bool standing_by = false;
  for (auto& schedule : feeds_) {
    if (stop_.stop_requested()) break;
    if (!active(schedule, clock_.now_ms())) {
      standing_by = true;
      continue;
    }
    if (clock_.now_ms() >= schedule.next_due) poll(schedule);
  }
  int64_t now = clock_.now_ms();
  // A standby turns often (kStandbyLook); its heartbeat need not follow.
  const bool beat = !last_beat_ || now - *last_beat_ >= 1000 || now < *last_beat_;
  if (store_ != nullptr && beat) {
    last_beat_ = now;
    try {
      store_->heartbeat("poller", worker_, now);
    } catch (const std::exception& e) {
      log_event(spdlog::level::warn, "cannot write the heartbeat", {{"error", e.what()}});
    }
  }
  int64_t next = now + 3'600'000;
  for (const auto& schedule : feeds_) {
    if (leases_ == nullptr || schedule.epoch) {
      next = std::min(next, schedule.next_due);
    } else {
      // Its lease was lost during this turn's poll: it stands by from now on, and must look
      // again soon (not in an hour) for the keeper to take the feed back.
      standing_by = true;
    }
  }
  // A standby looks at its lease often, to take the feed over as soon as the keeper has it.
  if (standing_by) next = std::min(next, now + kStandbyLook.count());
  for (auto* listener : listeners_) {
    if (auto wake = listener->on_turn(now)) next = std::min(next, *wake);
  }
  return next;
}

void PollLoop::run() {
  while (!stop_.stop_requested()) {
    int64_t next = run_due();
    int64_t wait = next - clock_.now_ms();
    if (wait > 0 && stop_.wait_for(std::chrono::milliseconds(wait))) break;
  }
}

bool PollLoop::run_once() {
  bool all_ok = true;
  for (auto& schedule : feeds_) {
    if (stop_.stop_requested()) return false;
    if (!active(schedule, clock_.now_ms())) {
      say_not_polled(schedule.poller->name());
      all_ok = false;
      continue;
    }
    all_ok = poll(schedule).ok() && all_ok;
  }
  return all_ok;
}

void PollLoop::say_not_polled(const std::string& feed) {
  std::optional<store::FeedLease> row;
  try {
    if (store_ != nullptr) {
      for (auto& lease : store_->feed_leases()) {
        if (lease.feed == feed) row = std::move(lease);
      }
    }
  } catch (const std::exception&) {
    // The store that refused the lease may refuse this too: the line says less.
  }
  if (row && row->holder != leases_->holder()) {
    log_event(spdlog::level::warn, "feed not polled: another poller holds its lease",
              {{"feed", feed}, {"holder", row->holder}, {"epoch", row->epoch}});
  } else {
    log_event(spdlog::level::warn, "feed not polled: its lease could not be taken",
              {{"feed", feed}, {"holder", leases_->holder()}});
  }
}

}  // namespace webhook::poller
