#include "poller/feed_lease_keeper.h"

#include <unistd.h>

#include <algorithm>

#include "common/logging.h"

namespace webhook::poller {

std::string FeedLeaseKeeper::process_holder() {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  return std::string(host) + ":" + std::to_string(getpid());
}

FeedLeaseKeeper::FeedLeaseKeeper(std::vector<std::string> feeds,
                                 std::unique_ptr<store::JobStore> store,
                                 std::chrono::milliseconds lease, std::string holder,
                                 const Clock& clock)
    : feeds_(std::move(feeds)),
      store_(std::move(store)),
      lease_(lease),
      term_(lease * 2 / 3),
      // A tenth of the lease (at least 50 ms) for the clocks' drift and the scheduler.
      margin_(std::max<std::chrono::milliseconds>(lease / 10, std::chrono::milliseconds(50))),
      holder_(std::move(holder)),
      clock_(clock) {
  for (const auto& feed : feeds_) states_[feed];
}

FeedLeaseKeeper::~FeedLeaseKeeper() { stop(); }

void FeedLeaseKeeper::start() {
  thread_ = std::thread([this] { run(); });
}

void FeedLeaseKeeper::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  for (const auto& feed : feeds_) {
    std::optional<int64_t> epoch;
    {
      std::lock_guard lock(mutex_);
      State& state = states_[feed];
      epoch = state.epoch;
      if (!epoch) continue;
      state.epoch.reset();  // not change(): the observer may be gone at shutdown
    }
    try {
      const bool released = store_->release_feed_lease(feed, holder_, *epoch, clock_.now_ms());
      log_event(spdlog::level::info,
                released ? "feed lease released" : "feed lease was already gone at release",
                {{"feed", feed}, {"holder", holder_}, {"epoch", *epoch}});
    } catch (const std::exception& e) {
      log_event(spdlog::level::warn,
                "cannot release the feed lease; a standby takes the feed when it expires",
                {{"feed", feed}, {"holder", holder_}, {"epoch", *epoch}, {"error", e.what()}});
    }
  }
}

bool FeedLeaseKeeper::wait_tried(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return tried_.wait_for(lock, timeout, [&] {
    return std::all_of(states_.begin(), states_.end(),
                       [](const auto& entry) { return entry.second.tried; });
  });
}

std::optional<int64_t> FeedLeaseKeeper::held(const std::string& feed) const {
  std::lock_guard lock(mutex_);
  auto it = states_.find(feed);
  if (it == states_.end() || !it->second.epoch || Steady::now() >= it->second.deadline) {
    return std::nullopt;
  }
  return it->second.epoch;
}

void FeedLeaseKeeper::lost(const std::string& feed, int64_t epoch) {
  {
    std::lock_guard lock(mutex_);
    State& state = states_[feed];
    if (state.epoch != epoch) return;
    change(feed, state, std::nullopt, "the store refused a commit under it");
    state.next_try = Steady::now();
  }
  wake_.notify_all();
}

// Under mutex_.
void FeedLeaseKeeper::change(const std::string& feed, State& state, std::optional<int64_t> epoch,
                             std::string_view why) {
  if (state.epoch == epoch) return;
  const std::optional<int64_t> before = state.epoch;
  state.epoch = epoch;
  FeedLeaseChange c{feed, epoch.has_value(), epoch && *epoch > 1, epoch.value_or(0)};
  if (epoch) {
    log_event(spdlog::level::info, "feed lease acquired: polling the feed",
              {{"feed", feed}, {"holder", holder_}, {"epoch", *epoch}});
  } else if (!why.empty()) {
    log_event(spdlog::level::warn, "feed lease lost: standing by",
              {{"feed", feed}, {"holder", holder_}, {"epoch", before.value_or(0)}, {"why", why}});
  }
  if (observer_) observer_(c);
}

void FeedLeaseKeeper::renew(const std::string& feed) {
  // The deadline counts from before the request: however long the answer takes, the
  // store's expiry (from when it ran the statement) is later.
  const Steady::time_point sent = Steady::now();
  std::optional<int64_t> epoch;
  try {
    epoch = store_->acquire_feed_lease(feed, holder_, term_, clock_.now_ms());
  } catch (const std::exception& e) {
    // Cut off or failing: what is held stays held until its deadline, no longer.
    log_event(spdlog::level::warn, "cannot renew the feed lease; trying again",
              {{"feed", feed}, {"holder", holder_}, {"error", e.what()}});
    std::lock_guard lock(mutex_);
    State& state = states_[feed];
    if (state.epoch && Steady::now() >= state.deadline) {
      change(feed, state, std::nullopt, "its lease ran out while the store could not be reached");
    }
    state.next_try = Steady::now() + lease_ / 3;
    state.tried = true;
    tried_.notify_all();
    return;
  }
  std::lock_guard lock(mutex_);
  State& state = states_[feed];
  const auto now = Steady::now();
  if (epoch) {
    // An epoch that moved although this holder never let go: it lost the feed meanwhile
    // (its renewal came after the expiry). The feed threads see a new epoch and start over.
    if (state.epoch && *state.epoch != *epoch) {
      change(feed, state, std::nullopt, "its lease ran out before the renewal arrived");
    }
    state.deadline = sent + term_ - margin_;
    change(feed, state, epoch, "");
    if (now >= state.deadline) change(feed, state, std::nullopt, "the renewal came too late");
  } else {
    change(feed, state, std::nullopt, "another poller holds the feed");
  }
  state.next_try = now + lease_ / 3;
  state.tried = true;
  tried_.notify_all();
}

void FeedLeaseKeeper::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    const auto now = Steady::now();
    Steady::time_point next = now + lease_;
    for (const auto& feed : feeds_) {
      if (stopping_) break;
      if (states_[feed].next_try <= now) {
        lock.unlock();
        renew(feed);
        lock.lock();
      }
      next = std::min(next, states_[feed].next_try);
    }
    wake_.wait_until(lock, next, [&] {
      if (stopping_) return true;
      for (const auto& [feed, state] : states_) {
        if (state.next_try <= Steady::now()) return true;
      }
      return false;
    });
  }
}

}  // namespace webhook::poller
