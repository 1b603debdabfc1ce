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
                   StopToken& stop, store::JobStore* store)
    : clock_(clock), stop_(stop), store_(store), worker_(hostname_and_pid()) {
  int64_t now = clock_.now_ms();
  for (auto& feed : feeds) feeds_.push_back(Schedule{std::move(feed), now, 0});
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
  try {
    result = feed.poll([this] { return stop_.stop_requested(); });
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
      log_event(spdlog::level::info, "poll abandoned: shutting down", {{"feed", feed.name()}});
      break;
  }
  for (auto* listener : listeners_) listener->on_poll(feed, result);
  return result;
}

int64_t PollLoop::run_due() {
  for (auto& schedule : feeds_) {
    if (stop_.stop_requested()) break;
    if (clock_.now_ms() >= schedule.next_due) poll(schedule);
  }
  int64_t now = clock_.now_ms();
  if (store_ != nullptr) {
    try {
      store_->heartbeat("poller", worker_, now);
    } catch (const std::exception& e) {
      log_event(spdlog::level::warn, "cannot write the heartbeat", {{"error", e.what()}});
    }
  }
  int64_t next = now + 3'600'000;
  for (const auto& schedule : feeds_) next = std::min(next, schedule.next_due);
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
    all_ok = poll(schedule).ok() && all_ok;
  }
  return all_ok;
}

}  // namespace webhook::poller
