// The dispatch loop while its store worker is held up by a slow transaction (PostgreSQL
// over a network, a big batch): the loop must sleep until the worker's reply, not spin.
// It once did: housekeeping that fell due meanwhile (reclaim, heartbeat) made every wait
// zero, so the loop turned ~150,000 times a second on a core the database needed, and one
// dispatcher on PostgreSQL delivered a fraction of what two did.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>

#include "common/clock.h"
#include "common/store/fault_injecting_store.h"
#include "tests/dispatcher/dispatch_harness.h"
#include "tests/support/hold_gate.h"

namespace webhook::dispatcher_test {
namespace {

// The real clock, counting how often the loop reads it (a few reads per loop turn).
class CountingClock final : public Clock {
 public:
  int64_t now_ms() const override {
    reads_.fetch_add(1);
    return real_.now_ms();
  }
  int64_t reads() const { return reads_.load(); }

 private:
  SystemClock real_;
  mutable std::atomic<int64_t> reads_{0};
};

TEST(DispatchLoopBusyWorkerTest, TheLoopSleepsWhileTheWorkerIsInASlowTransaction) {
  dispatcher::CurlGlobal curl;
  testing::TempDir dir;
  store::StoreOptions options;
  options.path = dir.file("webhook.db");
  options.durability = "NORMAL";
  auto store = store::FaultInjectingStore::open(options);
  testing::HoldGate gate;  // holds the worker inside a store call
  std::atomic<bool> first{true};
  // The first request reclaims expired leases: hold it there, as a slow server would.
  store->at("reclaim_expired_leases:before", [&](std::string_view) {
    if (first.exchange(false)) gate.hold();
  });
  DispatcherSettings settings = test_settings();
  settings.reclaim_every = 20ms;  // falls due many times while the worker is held
  settings.heartbeat_every = 20ms;
  CountingClock clock;
  dispatcher::ManualStopSource stop;
  dispatcher::DispatchLoop loop(*store, clock, settings, stop);
  std::thread runner([&] { loop.run(); });

  ASSERT_TRUE(eventually([&] { return gate.held(); }));
  const int64_t reads_when_held = clock.reads();
  // Housekeeping is overdue within 20 ms; a spinning loop reads the clock thousands of
  // times in well under the second given here, a sleeping one a few times.
  const bool spun =
      eventually([&] { return clock.reads() - reads_when_held > 5000; }, std::chrono::seconds(2));
  gate.release();
  stop.request();
  runner.join();
  EXPECT_FALSE(spun) << "the loop read the clock " << clock.reads() - reads_when_held
                     << " times while the worker was held";
}

}  // namespace
}  // namespace webhook::dispatcher_test
