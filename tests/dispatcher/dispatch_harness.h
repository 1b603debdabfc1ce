// Test harness for the dispatcher: a real SQLite store in a temp folder (migrated by the
// production code), jobs enqueued the way the poller commits them, the DispatchLoop run on
// its own thread with its own connection, and condition waits on the database. The loop runs
// on the system clock unless a test gives it a ManualClock (use_clock), which the test then
// moves to each retry's due time (step_to_next_attempt): retry timing is checked exactly.
// Header-only because tests/dispatcher compiles only *_test.cpp files. One per test.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/store/job_store.h"
#include "common/store/open_store.h"
#include "dispatcher/curl_handles.h"
#include "dispatcher/dispatch_loop.h"
#include "dispatcher/dispatcher_settings.h"
#include "dispatcher/stop_source.h"
#include "tests/support/child_process.h"
#include "tests/support/temp_dir.h"

namespace webhook::dispatcher_test {

using namespace std::chrono_literals;
using dispatcher::DispatcherSettings;
using store::JobState;

inline int64_t wall_ms() { return SystemClock().now_ms(); }

inline std::unique_ptr<store::JobStore> open_store(const std::string& path) {
  store::StoreOptions options;
  options.path = path;
  options.durability = "NORMAL";
  return store::open_store(options);
}

// What a test job looks like; defaults make a GET with no body.
struct JobSpec {
  JobSpec(std::string target = {}) : url(std::move(target)) {}  // NOLINT: implicit on purpose
  std::string url;
  std::string feed = "default";
  std::string method = "GET";
  nlohmann::ordered_json headers = nlohmann::ordered_json::object();
  std::string body;
  int64_t max_attempts = 4;
};

// Commits `specs` as one poll of their first job's feed at `at` (default: now); returns the
// job ids in order.
inline std::vector<std::string> enqueue(store::JobStore& jobs, const std::vector<JobSpec>& specs,
                                        std::optional<int64_t> at = std::nullopt) {
  store::PollCommit commit;
  const int64_t now = at.value_or(wall_ms());
  commit.poll.feed = specs.empty() ? "default" : specs.front().feed;
  commit.poll.started_at = commit.poll.finished_at = now;
  commit.poll.window_from = commit.poll.window_to = now;
  commit.poll.items_found = commit.poll.jobs_enqueued = static_cast<int64_t>(specs.size());
  commit.expected_cursor = jobs.cursor(commit.poll.feed);
  std::vector<std::string> ids;
  for (const JobSpec& spec : specs) {
    store::NewJob job;
    job.id = store::make_job_id(now);
    job.method = spec.method;
    job.url = spec.url;
    job.headers = spec.headers;
    job.body = spec.body;
    job.max_attempts = spec.max_attempts;
    ids.push_back(job.id);
    commit.jobs.push_back(std::move(job));
  }
  EXPECT_TRUE(jobs.commit_poll(commit).has_value());
  return ids;
}

inline std::string enqueue_one(store::JobStore& jobs, JobSpec spec,
                               std::optional<int64_t> at = std::nullopt) {
  return enqueue(jobs, {std::move(spec)}, at).front();
}

using webhook::testing::eventually;

// Fast settings for tests: short intervals and timeouts, housekeeping often.
inline DispatcherSettings test_settings() {
  DispatcherSettings settings;
  settings.worker = "test-dispatcher";
  settings.concurrency = 8;
  settings.host_concurrency = 8;
  settings.timeout = 5s;
  settings.connect_timeout = 2s;
  settings.shutdown_grace = 2s;
  settings.reclaim_every = 100ms;
  settings.fallback.retry.interval = 100ms;
  settings.fallback.retry.max_interval = 10s;
  return settings;
}

class DispatchHarness {
 public:
  DispatchHarness() : path_(dir_.file("webhook.db")), store_(open_store(path_)) {}
  ~DispatchHarness() { stop(); }

  store::JobStore& store() { return *store_; }
  const std::string& path() const { return path_; }
  const testing::TempDir& dir() const { return dir_; }

  // The loop started next runs on `clock` (borrowed) and, if given, takes its backoff
  // jitter from `random` (uniform in [0, 1)).
  void use_clock(const Clock& clock, std::function<double()> random = nullptr) {
    clock_ = &clock;
    random_ = std::move(random);
  }

  // Runs a DispatchLoop with `settings` on a thread, on its own connection.
  void start(DispatcherSettings settings) {
    loop_store_ = open_store(path_);
    loop_ = std::make_unique<dispatcher::DispatchLoop>(*loop_store_, *clock_, std::move(settings),
                                                       stop_, random_);
    thread_ = std::thread([this] { exit_ = loop_->run(); });
  }

  // Runs a loop to its end on this thread (settings.once), on `clock` if given.
  dispatcher::LoopExit run_once(DispatcherSettings settings, const Clock* clock = nullptr) {
    settings.once = true;
    auto connection = open_store(path_);
    dispatcher::DispatchLoop loop(*connection, clock ? *clock : *clock_, std::move(settings), stop_,
                                  random_);
    return loop.run();
  }

  // Requests a stop (as SIGTERM would) and waits for the loop to return.
  std::optional<dispatcher::LoopExit> stop() {
    if (!thread_.joinable()) return exit_;
    stop_.request();
    thread_.join();
    return exit_;
  }
  void request_stop() { stop_.request(); }
  bool finished() const { return exit_.has_value(); }
  void join() {
    if (thread_.joinable()) thread_.join();
  }

  std::optional<store::JobDetail> job(const std::string& id) { return store_->job(id); }
  JobState state(const std::string& id) {
    auto detail = store_->job(id);
    return detail ? detail->job.state : JobState::kCancelled;
  }
  bool wait_for_state(const std::string& id, JobState wanted,
                      std::chrono::milliseconds timeout = 20s) {
    return eventually([&] { return state(id) == wanted; }, timeout);
  }

  // With a ManualClock: waits until job `id` is pending after `attempts` attempts, then sets
  // `clock` to its retry's due time, so the loop makes the next attempt at exactly that time.
  // Returns the due time, or nullopt when the job did not get there.
  std::optional<int64_t> step_to_next_attempt(ManualClock& clock, const std::string& id,
                                              int64_t attempts) {
    std::optional<int64_t> due;
    const bool waiting = eventually([&] {
      auto detail = store_->job(id);
      if (!detail || detail->job.state != JobState::kPending || detail->job.attempts != attempts)
        return false;
      due = detail->job.next_attempt_at;
      return true;
    });
    if (!waiting) return std::nullopt;
    clock.set(std::max(clock.now_ms(), *due));
    return due;
  }

 private:
  dispatcher::CurlGlobal curl_;
  testing::TempDir dir_;
  std::string path_;
  std::unique_ptr<store::JobStore> store_;
  std::unique_ptr<store::JobStore> loop_store_;
  SystemClock system_clock_;
  const Clock* clock_ = &system_clock_;
  std::function<double()> random_;
  dispatcher::ManualStopSource stop_;
  std::unique_ptr<dispatcher::DispatchLoop> loop_;
  std::thread thread_;
  std::optional<dispatcher::LoopExit> exit_;
};

}  // namespace webhook::dispatcher_test
