#include "dispatcher/queue_gauge_updater.h"

#include <exception>
#include <memory>

#include "common/logging.h"

namespace webhook::dispatcher {

QueueGaugeUpdater::QueueGaugeUpdater(store::StoreOptions database,
                                     metrics::DispatcherMetrics& metrics, const Clock& clock,
                                     std::chrono::milliseconds period)
    : database_(std::move(database)), metrics_(metrics), clock_(clock), period_(period) {
  thread_ = std::thread([this] { run(); });
}

QueueGaugeUpdater::~QueueGaugeUpdater() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void QueueGaugeUpdater::run() {
  std::unique_ptr<store::JobStore> store;
  bool failing = false;
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    try {
      if (!store) store = store::open_store(database_);
      metrics_.update_queue(store->status(), clock_.now_ms());
      failing = false;
    } catch (const std::exception& e) {
      // The gauges keep their last values; the loop itself reports the database's state.
      if (!failing) {
        log_event(spdlog::level::warn, "cannot read the queue for the metrics",
                  {{"error", e.what()}});
      }
      failing = true;
      store.reset();
    }
    lock.lock();
    wake_.wait_for(lock, period_, [this] { return stopping_; });
  }
}

}  // namespace webhook::dispatcher
