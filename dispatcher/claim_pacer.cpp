#include "dispatcher/claim_pacer.h"

#include <algorithm>

namespace webhook::dispatcher {
namespace {

constexpr double kDurationSmoothing = 0.1;  // weight of the latest request in the mean

}  // namespace

ClaimPacer::ClaimPacer(int concurrency, std::chrono::milliseconds lease_margin)
    : concurrency_(concurrency), max_slot_wait_ms_(lease_margin.count() / 2) {}

void ClaimPacer::request_took(int64_t duration_ms) {
  const double duration = static_cast<double>(std::max<int64_t>(0, duration_ms));
  mean_duration_ms_ += kDurationSmoothing * (duration - mean_duration_ms_);
}

int ClaimPacer::claimable(int in_flight, int ready) const {
  const int ahead = claims_ahead() ? kClaimAheadFactor * concurrency_ : 0;
  return concurrency_ + ahead - in_flight - ready;
}

bool ClaimPacer::worth_claiming(int in_flight, int ready) const {
  const int free = claimable(in_flight, ready);
  const int batch = std::max(1, concurrency_ / kClaimDivisor);
  return free > 0 && (free >= batch || (in_flight == 0 && ready == 0));
}

}  // namespace webhook::dispatcher
