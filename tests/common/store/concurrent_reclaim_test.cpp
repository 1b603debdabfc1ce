// Several dispatchers taking back expired leases at the same moment, on every driver: each
// expired job comes back to pending once, charged one attempt, with one "interrupted"
// attempt row naming the dispatcher that held it, however many reclaimers ran and however
// often. Real forked processes, each with its own connection, released together.
#include <sys/mman.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <new>
#include <string>
#include <vector>

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

class ConcurrentReclaimTest : public ::testing::TestWithParam<Driver> {};

TEST_P(ConcurrentReclaimTest, ReclaimersInSeveralProcessesTakeEachExpiredJobBackOnce) {
  constexpr int kJobs = 300;
  constexpr int kReclaimers = 4;
  constexpr int kRounds = 3;  // each reclaimer tries this often
  constexpr int64_t kNow = 1'700'000'000'000;
  webhook::testing::TestDatabase db(GetParam());
  webhook::testing::TempDir counts;
  std::vector<std::string> ids;
  {
    auto store = db.open();
    ids = webhook::testing::enqueue(*store, "default", kJobs, kNow);
    ASSERT_EQ(store->claim("gone:1:dead", kJobs, 1s, kNow).size(), ids.size());
    // Not expired yet: nothing comes back before the lease ends.
    ASSERT_EQ(store->reclaim_expired_leases(kNow + 999), 0);
  }  // closed before forking

  void* shared = mmap(nullptr, sizeof(std::atomic<int>), PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(shared, MAP_FAILED);
  auto* ready = new (shared) std::atomic<int>(0);
  std::vector<pid_t> children;
  for (int c = 0; c < kReclaimers; ++c) {
    children.push_back(fork_child([&, c] {
      auto store = db.open();
      store->heartbeat("dispatcher", "reclaimer-" + std::to_string(c), kNow);  // connected
      ready->fetch_add(1);
      auto deadline = std::chrono::steady_clock::now() + 60s;
      while (ready->load() < kReclaimers && std::chrono::steady_clock::now() < deadline) {
        // spin: all start their reclaim at the same moment
      }
      int taken = 0;
      for (int round = 0; round < kRounds; ++round) {
        taken += store->reclaim_expired_leases(kNow + 2000 + round);
      }
      std::ofstream(counts.file("reclaimer-" + std::to_string(c))) << taken << "\n";
      return 0;
    }));
  }
  for (pid_t pid : children) EXPECT_EQ(wait_child(pid), 0);
  munmap(shared, sizeof(std::atomic<int>));

  int total = 0;
  for (int c = 0; c < kReclaimers; ++c) {
    int taken = -1;
    std::ifstream(counts.file("reclaimer-" + std::to_string(c))) >> taken;
    EXPECT_GE(taken, 0) << "reclaimer " << c << " wrote no count";
    total += taken;
  }
  EXPECT_EQ(total, kJobs);  // each job counted by exactly one reclaimer

  auto store = db.open();
  for (const auto& id : ids) {
    auto detail = store->job(id);
    ASSERT_TRUE(detail.has_value()) << id;
    EXPECT_EQ(detail->job.state, JobState::kPending) << id;
    EXPECT_EQ(detail->job.attempts, 1) << id;
    EXPECT_TRUE(detail->job.lease_owner.empty()) << id;
    ASSERT_EQ(detail->attempts.size(), 1u) << id;
    EXPECT_EQ(detail->attempts[0].number, 1) << id;
    EXPECT_EQ(detail->attempts[0].error, "interrupted: lease expired") << id;
    EXPECT_EQ(detail->attempts[0].worker, "gone:1:dead") << id;
    EXPECT_FALSE(detail->attempts[0].http_status.has_value()) << id;
  }
  // Taken back, they are claimable again, once each.
  EXPECT_EQ(store->claim("survivor:2:live", kJobs + 10, 30s, kNow + 10'000).size(), ids.size());
  EXPECT_EQ(store->reclaim_expired_leases(kNow + 10'001), 0);
}

INSTANTIATE_TEST_SUITE_P(Drivers, ConcurrentReclaimTest,
                         ::testing::ValuesIn(webhook::testing::kAllDrivers),
                         webhook::testing::driver_name);

}  // namespace
}  // namespace webhook::store
