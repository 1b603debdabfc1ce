// The split of WEBHOOK_CLUSTER_HOST_CONCURRENCY between live dispatchers: shares sum to the
// cap whatever the cap and the membership, differ by one at most, and every member computes
// the same split from the same rows; and which heartbeat rows count as live.
#include "common/cluster_membership.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace webhook {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> names(int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i)
    out.push_back("host-" + std::to_string(i) + ":100" + std::to_string(i));
  return out;
}

TEST(ClusterShareSplit, SharesSumToTheCapForEveryCapAndMembership) {
  for (int cap = 1; cap <= 20; ++cap) {
    for (int n = 1; n <= 7; ++n) {
      const auto members = names(n);
      int sum = 0;
      int most = 0;
      int least = cap;
      for (const auto& self : members) {
        const int share = cluster_share(cap, members, self);
        sum += share;
        most = std::max(most, share);
        least = std::min(least, share);
      }
      EXPECT_EQ(sum, cap) << "cap " << cap << ", " << n << " dispatchers";
      EXPECT_LE(most - least, 1) << "cap " << cap << ", " << n << " dispatchers";
    }
  }
}

TEST(ClusterShareSplit, TheExtraSlotsGoToTheFirstNamesAndFewerSlotsThanMembersLeaveSomeAtZero) {
  const std::vector<std::string> members = {"c:3", "a:1", "b:2"};  // any order
  EXPECT_EQ(cluster_share(4, members, "a:1"), 2);
  EXPECT_EQ(cluster_share(4, members, "b:2"), 1);
  EXPECT_EQ(cluster_share(4, members, "c:3"), 1);
  EXPECT_EQ(cluster_share(2, members, "a:1"), 1);
  EXPECT_EQ(cluster_share(2, members, "b:2"), 1);
  EXPECT_EQ(cluster_share(2, members, "c:3"), 0);
  // Itself counted once, listed or not.
  EXPECT_EQ(cluster_share(4, std::vector<std::string>{"b:2", "c:3"}, "a:1"), 2);
  EXPECT_EQ(cluster_share(4, std::vector<std::string>{"a:1", "a:1"}, "a:1"), 4);
}

TEST(LiveDispatchers, OnlyDispatcherRowsYoungerThanTheBoundCountOnceEachSorted) {
  const std::vector<store::HeartbeatRow> rows = {{"dispatcher", "c", 9'000},
                                                 {"dispatcher", "a", 10'500},   // clock ahead
                                                 {"dispatcher", "old", 7'000},  // exactly 3 s
                                                 {"poller", "p", 10'000},
                                                 {"dispatcher", "b", 7'001}};
  EXPECT_EQ(live_dispatchers(rows, 10'000, dispatcher_liveness(1s)),
            (std::vector<std::string>{"a", "b", "c"}));
}

}  // namespace
}  // namespace webhook
