// Several processes claiming from one store at once, on every driver, while another
// process enqueues: no job is held by two claimers while its lease holds (FOR UPDATE SKIP
// LOCKED on PostgreSQL, the write lock on SQLite), together they claim every job exactly
// once, and the work is shared. Real forked processes, each with its own connection.
#include <sys/mman.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <map>
#include <new>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/store/job_store.h"
#include "tests/support/forked_child.h"
#include "tests/support/store_fixtures.h"
#include "tests/support/temp_dir.h"

namespace webhook::store {
namespace {

using namespace std::chrono_literals;
using webhook::testing::Driver;
using webhook::testing::fork_child;
using webhook::testing::wait_child;

class ConcurrentClaimTest : public ::testing::TestWithParam<Driver> {};

TEST_P(ConcurrentClaimTest, ClaimersInSeveralProcessesTakeEveryJobOnceAndShareTheWork) {
  constexpr int kPolls = 40;
  constexpr int kJobsPerPoll = 25;
  constexpr int kTotal = kPolls * kJobsPerPoll;
  constexpr int kClaimers = 4;
  webhook::testing::TestDatabase db(GetParam());
  webhook::testing::TempDir logs;
  db.open()->status();  // created and migrated, then closed before forking

  // How many claimers have their first jobs: each waits for the others before going on,
  // so the work is shared whatever the scheduler does.
  void* shared = mmap(nullptr, sizeof(std::atomic<int>), PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(shared, MAP_FAILED);
  auto* first_claims = new (shared) std::atomic<int>(0);

  SystemClock clock;
  std::vector<pid_t> children;
  children.push_back(fork_child([&] {
    auto store = db.open();
    for (int i = 0; i < kPolls; ++i)
      webhook::testing::enqueue(*store, "default", kJobsPerPoll, clock.now_ms());
    return 0;
  }));
  for (int c = 0; c < kClaimers; ++c) {
    children.push_back(fork_child([&, c] {
      auto store = db.open();
      const std::string worker = "claimer-" + std::to_string(c);
      // Every job this claimer was given, with its token, for the parent to compare.
      std::ofstream claimed(logs.file(worker));
      auto deadline = std::chrono::steady_clock::now() + 90s;
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
          claimed << j.id << ' ' << j.lease_token << '\n';
          outcomes.push_back(
              webhook::testing::outcome_for(j, worker, OutcomeKind::kDelivered, clock.now_ms()));
        }
        claimed.flush();
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
  munmap(shared, sizeof(std::atomic<int>));

  std::map<std::string, int> claims_of_job;
  std::map<std::string, int> jobs_of_claimer;
  for (int c = 0; c < kClaimers; ++c) {
    const std::string worker = "claimer-" + std::to_string(c);
    std::ifstream in(logs.file(worker));
    std::string id;
    int64_t token = 0;
    while (in >> id >> token) {
      ++claims_of_job[id];
      ++jobs_of_claimer[worker];
      EXPECT_EQ(token & 1048575, 1) << id << ": claimed before";
    }
  }
  EXPECT_EQ(claims_of_job.size(), static_cast<std::size_t>(kTotal));
  for (const auto& [id, claims] : claims_of_job) EXPECT_EQ(claims, 1) << id;
  EXPECT_EQ(jobs_of_claimer.size(), static_cast<std::size_t>(kClaimers)) << "not shared";

  auto store = db.open();
  auto status = store->status();
  ASSERT_EQ(status.size(), 1u);
  EXPECT_EQ(status[0].counts[JobState::kDelivered], kTotal);
  // Exactly one attempt per job: none ran twice.
  int64_t attempts = 0;
  for (const auto& minute : store->attempts_per_minute(0))
    attempts += minute.delivered + minute.failed;
  EXPECT_EQ(attempts, kTotal);
}

INSTANTIATE_TEST_SUITE_P(Drivers, ConcurrentClaimTest,
                         ::testing::ValuesIn(webhook::testing::kAllDrivers),
                         webhook::testing::driver_name);

}  // namespace
}  // namespace webhook::store
