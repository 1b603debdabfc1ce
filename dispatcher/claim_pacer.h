// How many jobs the dispatch loop claims, and when. Under load a claim waits until a quarter
// of the slots are free, so one transaction serves many requests; when idle it claims at
// once. When requests are fast on average (a moving average of their durations), it claims
// up to kClaimAheadFactor x concurrency jobs more than there are free slots, so a slot is
// refilled the moment its request ends instead of a commit later; a job claimed ahead that
// found no slot by slot_deadline() goes back uncharged, so its lease always outlasts its
// request. Times are the caller's clock's. A plain value; one thread.
#pragma once

#include <chrono>
#include <cstdint>

namespace webhook::dispatcher {

class ClaimPacer {
 public:
  // Claim ahead when requests take less than this on average.
  static constexpr double kClaimAheadBelowMs = 50;
  static constexpr int kClaimAheadFactor = 8;  // jobs claimed ahead, per slot
  // Under load, claim once 1/kClaimDivisor of the slots is free.
  static constexpr int kClaimDivisor = 4;

  // `concurrency`: requests at once (WEBHOOK_CONCURRENCY); `lease_margin`: how much longer
  // a lease runs than a request may (a claimed job waits at most half of it for a slot).
  ClaimPacer(int concurrency, std::chrono::milliseconds lease_margin);

  // A request took `duration_ms`; folded into the moving average. The average starts slow
  // (one second), so a new dispatcher claims no more than it has slots until it has seen
  // fast requests.
  void request_took(int64_t duration_ms);
  double mean_duration_ms() const { return mean_duration_ms_; }
  bool claims_ahead() const { return mean_duration_ms_ < kClaimAheadBelowMs; }

  // Jobs a claim may take now, with `in_flight` requests running and `ready` claimed jobs
  // waiting for a slot (zero or less: none).
  int claimable(int in_flight, int ready) const;
  // Whether a claim is worth its transaction now.
  bool worth_claiming(int in_flight, int ready) const;
  // The last moment a job claimed at `claimed_at` may still start; after it, it goes back.
  int64_t slot_deadline(int64_t claimed_at) const { return claimed_at + max_slot_wait_ms_; }

 private:
  int concurrency_;
  int64_t max_slot_wait_ms_;
  double mean_duration_ms_ = 1000.0;
};

}  // namespace webhook::dispatcher
