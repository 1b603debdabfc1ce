// Keeps the queue gauges (jobs per state, age of the oldest pending job) current from
// JobStore::status() on a thread of its own with its own database connection: status() scans
// the jobs, so it runs every few seconds and never on the dispatch loop's thread. Owns the
// thread from construction to destruction; the metrics and the clock are borrowed and must
// outlive it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "common/clock.h"
#include "common/process_metrics.h"
#include "common/store/job_store.h"
#include "common/store/open_store.h"

namespace webhook::dispatcher {

class QueueGaugeUpdater {
 public:
  static constexpr std::chrono::milliseconds kDefaultPeriod{5000};

  // Updates at once, then every `period`.
  QueueGaugeUpdater(store::StoreOptions database, metrics::DispatcherMetrics& metrics,
                    const Clock& clock, std::chrono::milliseconds period = kDefaultPeriod);
  ~QueueGaugeUpdater();
  QueueGaugeUpdater(const QueueGaugeUpdater&) = delete;
  QueueGaugeUpdater& operator=(const QueueGaugeUpdater&) = delete;

 private:
  void run();

  store::StoreOptions database_;
  metrics::DispatcherMetrics& metrics_;
  const Clock& clock_;
  std::chrono::milliseconds period_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace webhook::dispatcher
