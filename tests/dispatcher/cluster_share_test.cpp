// One dispatcher's part of WEBHOOK_CLUSTER_HOST_CONCURRENCY over time: a share shrinks at
// once and grows only after the others have had time to shrink, a lone dispatcher takes the
// whole cap, and a member that cannot heartbeat stops sending.
#include "dispatcher/cluster_share.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace webhook::dispatcher {
namespace {

using namespace std::chrono_literals;
using store::HeartbeatRow;

class ClusterShareTest : public ::testing::Test {
 protected:
  static constexpr int64_t kBeat = 1000;
  ClusterShare share{4, 8, "b", std::chrono::milliseconds(kBeat)};

  static std::vector<HeartbeatRow> rows(std::vector<std::pair<std::string, int64_t>> members) {
    std::vector<HeartbeatRow> out;
    for (auto& [worker, at] : members) out.push_back({"dispatcher", worker, at});
    out.push_back({"poller", "a", 0});  // pollers do not count, whatever their name
    return out;
  }
};

TEST_F(ClusterShareTest, NothingIsSentBeforeTheFirstHeartbeat) { EXPECT_EQ(share.limit(0), 0); }

TEST_F(ClusterShareTest, AloneItTakesTheWholeCapAtOnceCappedByTheProcessLimit) {
  ClusterShare small(20, 8, "b", std::chrono::milliseconds(kBeat));
  EXPECT_TRUE(small.update(rows({{"b", 10'000}}), 10'000));
  EXPECT_EQ(small.share(10'000), 20);
  EXPECT_EQ(small.limit(10'000), 8);  // min(WEBHOOK_HOST_CONCURRENCY, share)
  EXPECT_EQ(small.live(), 1);
}

TEST_F(ClusterShareTest, RowsOlderThanTheLivenessBoundAreNotMembers) {
  const int64_t now = 100'000;
  share.update(rows({{"a", now - 3 * kBeat}, {"b", now}, {"c", now - 3 * kBeat + 1}}), now);
  EXPECT_EQ(share.live(), 2);  // b and c; a's row is exactly three intervals old
}

TEST_F(ClusterShareTest, ANewcomerWaitsForTheOthersToShrinkBeforeTakingItsShare) {
  int64_t now = 100'000;
  // b starts while a is live: its share (2 of 4) is wanted, not yet in force.
  share.update(rows({{"a", now - 500}, {"b", now}}), now);
  EXPECT_EQ(share.live(), 2);
  EXPECT_EQ(share.limit(now), 0);
  const int64_t joined = now;
  for (now += kBeat; now < joined + share.grow_delay().count(); now += kBeat) {
    share.update(rows({{"a", now - 500}, {"b", now}}), now);
    EXPECT_EQ(share.limit(now), 0) << "at +" << now - joined;
  }
  EXPECT_EQ(share.limit(joined + share.grow_delay().count() - 1), 0);
  EXPECT_EQ(share.limit(joined + share.grow_delay().count()), 2);  // due between heartbeats
}

TEST_F(ClusterShareTest, AShareShrinksAtOnceWhenAMemberJoins) {
  int64_t now = 100'000;
  share.update(rows({{"b", now}}), now);
  EXPECT_EQ(share.limit(now), 4);
  now += kBeat;
  // a and c joined: 4 over three, a first in rank gets 2, b and c one each.
  EXPECT_TRUE(share.update(rows({{"a", now - 10}, {"b", now}, {"c", now - 20}}), now));
  EXPECT_EQ(share.limit(now), 1);
  EXPECT_EQ(share.live(), 3);
}

TEST_F(ClusterShareTest, ASurvivorLeftAloneTakesTheWholeCapOnceTheDeadMembersRowAgesOut) {
  int64_t now = 100'000;
  share.update(rows({{"b", now}}), now);
  now += kBeat;
  share.update(rows({{"a", now}, {"b", now}}), now);
  EXPECT_EQ(share.limit(now), 2);
  const int64_t a_last = now;
  // a dies; its row ages out after the liveness bound, then b's growth waits the delay.
  int64_t gone = 0;
  for (now += kBeat;; now += kBeat) {
    share.update(rows({{"a", a_last}, {"b", now}}), now);
    if (share.live() == 1) {
      gone = now;
      break;
    }
  }
  EXPECT_GE(gone - a_last, share.liveness().count());
  EXPECT_EQ(share.limit(now), 4);  // alone: nobody else can be sending
}

TEST_F(ClusterShareTest, AMemberWhoseHeartbeatFailsStopsSendingAfterTheLivenessBound) {
  const int64_t now = 100'000;
  share.update(rows({{"b", now}}), now);
  EXPECT_EQ(share.limit(now + share.liveness().count() - 1), 4);
  EXPECT_EQ(share.limit(now + share.liveness().count()), 0);  // the others count it gone
}

TEST_F(ClusterShareTest, AfterAGapInItsHeartbeatsAMemberWaitsBeforeSendingAgain) {
  int64_t now = 100'000;
  const int64_t joined = now;
  for (; now <= joined + share.grow_delay().count(); now += kBeat) {
    share.update(rows({{"a", now}, {"b", now}}), now);
  }
  EXPECT_EQ(share.limit(now), 2);
  // Cut off from the store for longer than the bound: a may have taken the whole cap.
  now += 5 * kBeat;
  share.update(rows({{"a", now - 100}, {"b", now}}), now);
  EXPECT_EQ(share.limit(now), 0);
  const int64_t back = now;
  for (now += kBeat; now < back + share.grow_delay().count(); now += kBeat) {
    share.update(rows({{"a", now - 100}, {"b", now}}), now);
    EXPECT_EQ(share.limit(now), 0);
  }
  share.update(rows({{"a", now - 100}, {"b", now}}), now);
  EXPECT_EQ(share.limit(now), 2);
}

// Rows of established members a, b, c (b is this process), with `stopped` marked stopped.
std::vector<HeartbeatRow> fleet_rows(int64_t now, const std::string& stopped = "") {
  std::vector<HeartbeatRow> out;
  for (const char* worker : {"a", "b", "c"}) {
    HeartbeatRow row{"dispatcher", worker, now - 300};
    if (worker == stopped) row.stopped_at = now - 200;
    out.push_back(row);
  }
  return out;
}

// b has been a member of {a, b, c} long past its newcomer's wait: its share is in force.
int64_t establish(ClusterShare& share, int64_t now) {
  const int64_t until = now + share.grow_delay().count() + 1000;
  for (; now <= until; now += 1000) share.update(fleet_rows(now), now);
  return now;
}

TEST(ClusterShareLeave, AMemberThatSaidItStoppedLeavesItsSlotsAtTheNextHeartbeat) {
  ClusterShare share(5, 8, "b", 1000ms);  // a 2, b 2, c 1
  int64_t now = establish(share, 100'000);
  ASSERT_EQ(share.share(now), 2);
  // a marked its row stopped: b's next heartbeat takes the share of {b, c} (b 3, c 2).
  EXPECT_TRUE(share.update(fleet_rows(now, "a"), now));
  EXPECT_EQ(share.live(), 2);
  EXPECT_EQ(share.share(now), 3);
  EXPECT_EQ(share.wanted(), std::nullopt);
}

TEST(ClusterShareLeave, AMemberThatWentSilentIsStillWaitedFor) {
  ClusterShare share(5, 8, "b", 1000ms);
  int64_t now = establish(share, 100'000);
  // a's row ages out without a word: the growth waits grow_delay(), as before.
  std::vector<HeartbeatRow> rows = fleet_rows(now);
  rows[0].at = now - share.liveness().count();
  share.update(rows, now);
  EXPECT_EQ(share.live(), 2);
  EXPECT_EQ(share.share(now), 2);
  EXPECT_EQ(share.wanted(), 3);
}

TEST(ClusterShareLeave, ANewcomerStillWaitsItsOwnWaitWhenAMemberLeaves) {
  ClusterShare share(5, 8, "b", 1000ms);
  int64_t now = 100'000;
  share.update(fleet_rows(now), now);  // b's first heartbeat: a and c are live
  ASSERT_EQ(share.limit(now), 0);
  now += 1000;
  // a leaves before every member may have seen b: b takes nothing early.
  share.update(fleet_rows(now, "a"), now);
  EXPECT_EQ(share.limit(now), 0);
  EXPECT_EQ(share.wanted(), 3);
}

TEST(ClusterShareLeave, AfterALapseTheLastSetIsNotTrusted) {
  ClusterShare share(5, 8, "b", 1000ms);
  int64_t now = establish(share, 100'000);
  now += share.liveness().count();  // b's own heartbeat lapsed meanwhile
  share.update(fleet_rows(now, "a"), now);
  EXPECT_EQ(share.limit(now), 0);
  EXPECT_EQ(share.wanted(), 3);
}

}  // namespace
}  // namespace webhook::dispatcher
