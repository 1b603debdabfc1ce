// A process killed (SIGKILL) at a named point inside a transaction leaves none of it, on
// every driver: the conformance half of the crash tests (the SQLite-only checks, such as the
// file's integrity, stay in sqlite/multi_process_test.cpp).
#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "common/store/fault_injecting_store.h"
#include "tests/support/forked_child.h"
#include "tests/support/store_fixtures.h"

namespace webhook::store {
namespace {

using namespace std::chrono_literals;
using webhook::testing::Driver;

constexpr int64_t kNow = 1'700'000'000'000;

class CrashTest : public ::testing::TestWithParam<Driver> {
 protected:
  // Runs `body` in a child that stops at `point` inside the store, kills it there and
  // returns once it is dead. Fails the test if the point is never reached.
  void kill_child_at(const std::string& point, const std::function<void(JobStore&)>& body) {
    webhook::testing::SignalPipe reached;
    pid_t pid = webhook::testing::fork_child([&] {
      auto store = FaultInjectingStore::open(db_.options());
      store->at(point, [&](std::string_view) {
        reached.notify();
        for (;;) pause();  // wait for the kill inside the transaction
      });
      body(*store);
      return 5;  // the point was not reached
    });
    bool ok = reached.wait(30s);
    ::kill(pid, SIGKILL);
    EXPECT_EQ(webhook::testing::wait_child(pid), 128 + SIGKILL);
    ASSERT_TRUE(ok) << "fault point " << point << " never reached";
  }

  webhook::testing::TestDatabase db_{GetParam()};
};

TEST_P(CrashTest, KillInsideCommitPollLeavesNoneOfIt) {
  webhook::testing::enqueue(*db_.open(), "default", 2, kNow);
  PollCommit commit = webhook::testing::make_poll("default", 50, kNow + 60000, kNow);
  for (const char* point : {"commit_poll:jobs_written", "commit_poll:before_commit"}) {
    kill_child_at(point, [&](JobStore& store) { store.commit_poll(commit); });
    auto store = db_.open();
    EXPECT_EQ(store->cursor("default"), kNow) << point;
    EXPECT_EQ(store->list_jobs({}).size(), 2u) << point;
    EXPECT_EQ(store->list_polls(std::nullopt, 10).size(), 1u) << point;
    EXPECT_EQ(store->seen_since("default", 0).size(), 2u) << point;
  }
  // The same poll commits whole afterwards.
  auto store = db_.open();
  ASSERT_TRUE(store->commit_poll(commit));
  EXPECT_EQ(store->list_jobs({std::nullopt, std::nullopt, 1000, std::nullopt, std::nullopt}).size(),
            52u);
}

TEST_P(CrashTest, KillInsideRecordOutcomesLeavesNoneOfIt) {
  std::vector<Outcome> outcomes;
  {
    auto store = db_.open();
    webhook::testing::enqueue(*store, "default", 10, kNow);
    for (const auto& j : store->claim("w1", 10, 10min, kNow)) {
      outcomes.push_back(webhook::testing::outcome_for(j, "w1", OutcomeKind::kDelivered, kNow));
    }
  }
  ASSERT_EQ(outcomes.size(), 10u);
  kill_child_at("record_outcomes:first_applied",
                [&](JobStore& store) { store.record_outcomes(outcomes, kNow + 1); });
  auto store = db_.open();
  EXPECT_EQ(
      store->list_jobs({JobState::kRunning, std::nullopt, 100, std::nullopt, std::nullopt}).size(),
      10u);
  EXPECT_EQ(store->record_outcomes(outcomes, kNow + 2).applied, 10);
  EXPECT_EQ(store->list_jobs({JobState::kDelivered, std::nullopt, 100, std::nullopt, std::nullopt})
                .size(),
            10u);
}

INSTANTIATE_TEST_SUITE_P(Drivers, CrashTest, ::testing::ValuesIn(webhook::testing::kAllDrivers),
                         webhook::testing::driver_name);

}  // namespace
}  // namespace webhook::store
