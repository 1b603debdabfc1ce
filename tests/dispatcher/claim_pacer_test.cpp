// The claim pacing, on a ManualClock: how many jobs a claim takes as requests speed up and
// slow down, when a claim is worth its transaction, and how long a claimed job may wait.
#include "dispatcher/claim_pacer.h"

#include <gtest/gtest.h>

#include "common/clock.h"

namespace webhook::dispatcher_test {
namespace {

using namespace std::chrono_literals;
using dispatcher::ClaimPacer;

// Runs `count` requests of `duration_ms` each, timed on `clock` as the loop times them.
void run_requests(ClaimPacer& pacer, ManualClock& clock, int count, int64_t duration_ms) {
  for (int i = 0; i < count; ++i) {
    const int64_t started = clock.now_ms();
    clock.advance(duration_ms);
    pacer.request_took(clock.now_ms() - started);
  }
}

TEST(ClaimPacer, ANewDispatcherClaimsNoMoreThanItsFreeSlots) {
  ClaimPacer pacer(16, 5s);
  EXPECT_FALSE(pacer.claims_ahead());
  EXPECT_EQ(pacer.claimable(0, 0), 16);
  EXPECT_EQ(pacer.claimable(10, 2), 4);
  EXPECT_EQ(pacer.claimable(16, 0), 0);
}

TEST(ClaimPacer, FastRequestsOnAverageClaimAheadAndSlowOnesStop) {
  ManualClock clock;
  ClaimPacer pacer(16, 5s);
  run_requests(pacer, clock, 50, 2);  // the mean falls from its slow start below 50 ms
  ASSERT_TRUE(pacer.claims_ahead());
  EXPECT_LT(pacer.mean_duration_ms(), ClaimPacer::kClaimAheadBelowMs);
  EXPECT_EQ(pacer.claimable(16, 0), ClaimPacer::kClaimAheadFactor * 16);
  EXPECT_EQ(pacer.claimable(16, 100), 16 + 8 * 16 - 16 - 100);

  // One slow request moves the mean a tenth of the way, not all of it.
  run_requests(pacer, clock, 1, 300);
  EXPECT_TRUE(pacer.claims_ahead());
  run_requests(pacer, clock, 30, 300);  // a receiver that slowed down for good
  EXPECT_FALSE(pacer.claims_ahead());
  EXPECT_EQ(pacer.claimable(16, 0), 0);
}

TEST(ClaimPacer, UnderLoadAClaimWaitsForAQuarterOfTheSlotsButNotWhenIdle) {
  ClaimPacer pacer(16, 5s);                   // not claiming ahead: 16 jobs at most
  EXPECT_TRUE(pacer.worth_claiming(0, 0));    // idle: at once
  EXPECT_FALSE(pacer.worth_claiming(13, 0));  // 3 free of 16: wait for 4
  EXPECT_TRUE(pacer.worth_claiming(12, 0));
  EXPECT_FALSE(pacer.worth_claiming(10, 6));  // the ready jobs fill the slots
  EXPECT_FALSE(pacer.worth_claiming(16, 0));
  ClaimPacer single(1, 5s);
  EXPECT_TRUE(single.worth_claiming(0, 0));
  EXPECT_FALSE(single.worth_claiming(1, 0));
}

TEST(ClaimPacer, AClaimedJobWaitsForASlotHalfTheLeaseMarginAtMost) {
  ManualClock clock;
  ClaimPacer pacer(4, 5s);
  const int64_t claimed_at = clock.now_ms();
  EXPECT_EQ(pacer.slot_deadline(claimed_at), claimed_at + 2500);
  clock.advance(2500);
  EXPECT_LE(clock.now_ms(), pacer.slot_deadline(claimed_at));  // may still start
  clock.advance(1);
  EXPECT_GT(clock.now_ms(), pacer.slot_deadline(claimed_at));  // goes back
}

}  // namespace
}  // namespace webhook::dispatcher_test
