// Several processes on one file: claimers racing while another process enqueues, and
// processes killed with SIGKILL in the middle of a transaction.
#include <sys/mman.h>

#include <signal.h>
#include <unistd.h>
#include <atomic>
#include <fstream>
#include <new>

#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "common/clock.h"
#include "common/store/job_store.h"
#include "common/store/sqlite/sqlite_store.h"
#include "tests/support/forked_child.h"
#include "tests/support/store_fixtures.h"
#include "tests/support/temp_dir.h"

namespace webhook::store {
namespace {

// A job filter without the console's fields (text, paging).
JobFilter filter_of(std::optional<JobState> state, std::optional<std::string> feed, int limit) {
  JobFilter f;
  f.state = state;
  f.feed = std::move(feed);
  f.limit = limit;
  return f;
}

using namespace std::chrono_literals;
using webhook::testing::fork_child;
using webhook::testing::wait_child;

SqliteOptions options_for(const std::string& path) {
  SqliteOptions options;
  options.path = path;
  options.synchronous = "NORMAL";
  // Short, so that contention goes through the store's own retry rather than only
  // SQLite's busy wait.
  options.busy_timeout = 20ms;
  return options;
}

TEST(MultiProcessTest, EveryJobIsClaimedExactlyOnceWhileAnotherProcessEnqueues) {
  constexpr int kPolls = 40;
  constexpr int kJobsPerPoll = 25;
  constexpr int kTotal = kPolls * kJobsPerPoll;
  constexpr int kClaimers = 4;
  webhook::testing::TempDir dir;
  const std::string path = dir.file("shared.db");
  open_sqlite_store(options_for(path));  // create it, then close before forking

  // Shared by the forked claimers: how many have claimed their first jobs. Each waits for
  // the others before going on, so the work is shared whatever the scheduler does.
  void* shared = mmap(nullptr, sizeof(std::atomic<int>), PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(shared, MAP_FAILED);
  auto* first_claims = new (shared) std::atomic<int>(0);

  SystemClock clock;
  std::vector<pid_t> children;
  children.push_back(fork_child([&] {
    auto store = open_sqlite_store(options_for(path));
    for (int i = 0; i < kPolls; ++i)
      webhook::testing::enqueue(*store, "default", kJobsPerPoll, clock.now_ms());
    return 0;
  }));
  for (int c = 0; c < kClaimers; ++c) {
    children.push_back(fork_child([&, c] {
      auto store = open_sqlite_store(options_for(path));
      const std::string worker = "claimer-" + std::to_string(c);
      auto deadline = std::chrono::steady_clock::now() + 60s;
      bool counted = false;
      while (std::chrono::steady_clock::now() < deadline) {
        auto jobs = store->claim(worker, 7, 10min, clock.now_ms());
        if (!jobs.empty() && !counted) {
          counted = true;
          first_claims->fetch_add(1);
          while (first_claims->load() < kClaimers && std::chrono::steady_clock::now() < deadline) {
            usleep(1000);
          }
        }
        std::vector<Outcome> outcomes;
        for (const auto& j : jobs) {
          outcomes.push_back(
              webhook::testing::outcome_for(j, worker, OutcomeKind::kDelivered, clock.now_ms()));
        }
        auto result = store->record_outcomes(outcomes, clock.now_ms());
        if (result.stale != 0) return 4;  // a lease was lost although it cannot expire
        if (jobs.empty()) {
          auto status = store->status();
          if (!status.empty() && status[0].counts[JobState::kDelivered] == kTotal) return 0;
          usleep(1000);
        }
      }
      return 3;
    }));
  }
  for (pid_t pid : children) EXPECT_EQ(wait_child(pid), 0);

  SQLite::Database db(path);
  EXPECT_EQ(db.execAndGet("SELECT count(*) FROM jobs").getInt(), kTotal);
  EXPECT_EQ(db.execAndGet("SELECT count(*) FROM jobs WHERE state = 'delivered'").getInt(), kTotal);
  // Exactly one attempt per job: no job ran twice.
  EXPECT_EQ(db.execAndGet("SELECT count(*) FROM attempts").getInt(), kTotal);
  EXPECT_EQ(db.execAndGet("SELECT count(DISTINCT job_seq) FROM attempts").getInt(), kTotal);
  // Each job's claim counter (the token's low bits) shows one claim.
  EXPECT_EQ(db.execAndGet("SELECT count(*) FROM jobs WHERE (lease_token & 1048575) != 1").getInt(),
            0);
  // The work was actually shared: every claimer delivered some.
  EXPECT_EQ(db.execAndGet("SELECT count(DISTINCT worker) FROM attempts").getInt(), kClaimers);
  munmap(shared, sizeof(std::atomic<int>));
}

// True once process `pid` sleeps in poll() (its kernel wait channel says so; where the
// kernel hides it, once the process sleeps at all).
bool sleeps_in_poll(pid_t pid) {
  std::ifstream wchan("/proc/" + std::to_string(pid) + "/wchan");
  std::string channel;
  wchan >> channel;
  if (channel.find("poll") != std::string::npos) return true;
  if (channel != "0" && !channel.empty()) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  const auto close = line.rfind(')');
  return close != std::string::npos && line.size() > close + 2 && line[close + 2] == 'S';
}

// The dispatcher idles in wait_for_work without asking SQLite every few milliseconds: a
// commit by another process (the poller) writes the -wal file, and that write wakes the
// wait. Both probes are set far beyond the wait here, so only the watch can wake it: the
// child commits once the parent already sleeps in the wait.
TEST(MultiProcessTest, AnotherProcessCommitWakesTheWaitWithoutProbing) {
  webhook::testing::TempDir dir;
  const std::string path = dir.file("shared.db");
  SqliteOptions options = options_for(path);
  options.work_probe = 10min;
  options.watched_probe = 10min;
  auto store = open_sqlite_store(options);
  SystemClock clock;
  EXPECT_TRUE(store->claim("d1", 1, 30s, clock.now_ms()).empty());
  const pid_t parent = ::getpid();
  pid_t pid = fork_child([&] {
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (!sleeps_in_poll(parent)) {
      if (std::chrono::steady_clock::now() > deadline) return 3;
      usleep(1000);
    }
    auto poller = open_sqlite_store(options_for(path));
    webhook::testing::enqueue(*poller, "default", 1, clock.now_ms());
    return 0;
  });
  // Far below the probes (10 min), far above the watch's look after a write: a miss fails.
  EXPECT_TRUE(store->wait_for_work(60s, -1)) << "the other process's commit was not noticed";
  EXPECT_EQ(wait_child(pid), 0);
  EXPECT_EQ(store->claim("d1", 1, 30s, clock.now_ms()).size(), 1u);
  EXPECT_FALSE(store->wait_for_work(0ms, -1)) << "its own claim is no news";
}

// Runs `body` in a child whose fault hook stops at `point`, kills it there with SIGKILL, and
// returns once it is dead. Fails the test if the point is never reached.
void kill_child_at(const std::string& path, const std::string& point,
                   const std::function<void(JobStore&)>& body) {
  webhook::testing::SignalPipe reached;
  pid_t pid = fork_child([&] {
    SqliteOptions options = options_for(path);
    options.synchronous = "FULL";
    struct Pause final : FaultPoints {
      const std::string& point;
      webhook::testing::SignalPipe& pipe;
      Pause(const std::string& p, webhook::testing::SignalPipe& r) : point(p), pipe(r) {}
      void reached(std::string_view at) override {
        if (at != point) return;
        pipe.notify();
        for (;;) pause();  // wait for the kill inside the transaction
      }
    } faults(point, reached);
    options.faults = &faults;
    auto store = open_sqlite_store(options);
    body(*store);
    return 5;  // the point was not reached
  });
  bool ok = reached.wait(30s);
  ::kill(pid, SIGKILL);
  EXPECT_EQ(wait_child(pid), 128 + SIGKILL);
  ASSERT_TRUE(ok) << "fault point " << point << " never reached";
}

TEST(CrashTest, KillInsideCommitPollLeavesNoneOfIt) {
  webhook::testing::TempDir dir;
  const std::string path = dir.file("crash.db");
  constexpr int64_t kNow = 1'700'000'000'000;
  webhook::testing::enqueue(*open_sqlite_store(options_for(path)), "default", 2, kNow);

  PollCommit commit = webhook::testing::make_poll("default", 50, kNow + 60000, kNow);
  for (const char* point : {"commit_poll:jobs_written", "commit_poll:before_commit"}) {
    kill_child_at(path, point, [&](JobStore& store) { store.commit_poll(commit); });
    auto store = open_sqlite_store(options_for(path));
    EXPECT_EQ(store->cursor("default"), kNow) << point;
    EXPECT_EQ(store->list_jobs({}).size(), 2u) << point;
    EXPECT_EQ(store->list_polls(std::nullopt, 10).size(), 1u) << point;
    EXPECT_EQ(store->seen_since("default", 0).size(), 2u) << point;
  }
  // The same poll commits whole afterwards: the file is intact.
  auto store = open_sqlite_store(options_for(path));
  ASSERT_TRUE(store->commit_poll(commit));
  EXPECT_EQ(store->list_jobs(filter_of(std::nullopt, std::nullopt, 1000)).size(), 52u);
  SQLite::Database db(path);
  EXPECT_EQ(db.execAndGet("PRAGMA integrity_check").getString(), "ok");
}

TEST(CrashTest, KillInsideRecordOutcomesLeavesNoneOfItAndAfterCommitAllOfIt) {
  webhook::testing::TempDir dir;
  const std::string path = dir.file("crash.db");
  constexpr int64_t kNow = 1'700'000'000'000;
  std::vector<Outcome> outcomes;
  {
    auto store = open_sqlite_store(options_for(path));
    webhook::testing::enqueue(*store, "default", 10, kNow);
    for (const auto& j : store->claim("w1", 10, 10min, kNow)) {
      outcomes.push_back(webhook::testing::outcome_for(j, "w1", OutcomeKind::kDelivered, kNow));
    }
  }
  ASSERT_EQ(outcomes.size(), 10u);
  kill_child_at(path, "record_outcomes:first_applied",
                [&](JobStore& store) { store.record_outcomes(outcomes, kNow + 1); });
  {
    auto store = open_sqlite_store(options_for(path));
    EXPECT_EQ(store->list_jobs(filter_of(JobState::kRunning, std::nullopt, 100)).size(), 10u);
    SQLite::Database db(path);
    EXPECT_EQ(db.execAndGet("SELECT count(*) FROM attempts").getInt(), 0);
  }
  // Killed right after the commit returned: every outcome is there.
  webhook::testing::SignalPipe done;
  pid_t pid = fork_child([&] {
    auto store = open_sqlite_store(options_for(path));
    if (store->record_outcomes(outcomes, kNow + 2).applied != 10) return 6;
    done.notify();
    for (;;) pause();
  });
  ASSERT_TRUE(done.wait(30s));
  ::kill(pid, SIGKILL);
  EXPECT_EQ(wait_child(pid), 128 + SIGKILL);
  auto store = open_sqlite_store(options_for(path));
  EXPECT_EQ(store->list_jobs(filter_of(JobState::kDelivered, std::nullopt, 100)).size(), 10u);
  SQLite::Database db(path);
  EXPECT_EQ(db.execAndGet("SELECT count(*) FROM attempts").getInt(), 10);
}

}  // namespace
}  // namespace webhook::store
