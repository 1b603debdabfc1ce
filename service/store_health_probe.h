// A /healthz probe that applies the rules of common/health_check.h to the shared database,
// exactly as `webhookctl health` does. It keeps its own JobStore connection, opened on
// first use (a JobStore serves one thread at a time, and the process's own connection
// belongs to its loop); calls from the server's threads are serialised by a mutex.
#pragma once

#include <functional>
#include <memory>
#include <mutex>

#include "common/clock.h"
#include "common/health_check.h"
#include "common/store/job_store.h"
#include "common/store/open_store.h"

namespace webhook::service {

class StoreHealthProbe {
 public:
  using Check = std::function<HealthReport(store::JobStore& store, int64_t now_ms)>;

  // `clock` must outlive the probe.
  StoreHealthProbe(store::StoreOptions options, Check check, const Clock& clock);

  // Usable as a MetricsServer::HealthProbe (copies share one connection).
  HealthReport operator()() const;

 private:
  struct State {
    std::mutex mutex;
    std::unique_ptr<store::JobStore> store;
  };
  store::StoreOptions options_;
  Check check_;
  const Clock* clock_;
  std::shared_ptr<State> state_;
};

}  // namespace webhook::service
