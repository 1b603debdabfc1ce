#include "service/store_health_probe.h"

namespace webhook::service {

StoreHealthProbe::StoreHealthProbe(store::StoreOptions options, Check check, const Clock& clock)
    : options_(std::move(options)),
      check_(std::move(check)),
      clock_(&clock),
      state_(std::make_shared<State>()) {}

HealthReport StoreHealthProbe::operator()() const {
  std::lock_guard lock(state_->mutex);
  if (!state_->store) state_->store = store::open_store(options_);
  return check_(*state_->store, clock_->now_ms());
}

}  // namespace webhook::service
