#include "common/store/store_connectivity.h"

#include <utility>

namespace webhook::store {

StoreConnectivity& StoreConnectivity::process() {
  static StoreConnectivity instance;
  return instance;
}

StoreConnectivity::Subscription::~Subscription() {
  if (owner_ == nullptr) return;
  std::lock_guard lock(owner_->mutex_);
  owner_->observers_.erase(at_);
}

StoreConnectivity::Subscription::Subscription(Subscription&& other) noexcept
    : owner_(std::exchange(other.owner_, nullptr)), at_(other.at_) {}

StoreConnectivity::Subscription& StoreConnectivity::Subscription::operator=(
    Subscription&& other) noexcept {
  if (this != &other) {
    Subscription old(std::move(*this));
    owner_ = std::exchange(other.owner_, nullptr);
    at_ = other.at_;
  }
  return *this;
}

StoreConnectivity::Subscription StoreConnectivity::observe(Observer observer) {
  std::lock_guard lock(mutex_);
  observer(reachable_, reconnects_);
  Subscription subscription;
  subscription.owner_ = this;
  subscription.at_ = observers_.insert(observers_.end(), std::move(observer));
  return subscription;
}

void StoreConnectivity::cut_off() {
  std::lock_guard lock(mutex_);
  reachable_ = false;
  changed();
}

void StoreConnectivity::connected(bool after_outage) {
  std::lock_guard lock(mutex_);
  reachable_ = true;
  if (after_outage) ++reconnects_;
  changed();
}

bool StoreConnectivity::reachable() const {
  std::lock_guard lock(mutex_);
  return reachable_;
}

int64_t StoreConnectivity::reconnects() const {
  std::lock_guard lock(mutex_);
  return reconnects_;
}

void StoreConnectivity::changed() {
  for (const Observer& observer : observers_) observer(reachable_, reconnects_);
}

}  // namespace webhook::store
