// What the poll loop asks to know whether to stop and to sleep until the next poll: the
// process's SIGTERM/SIGINT in production, something a test drives in tests (which may move
// a ManualClock instead of sleeping). Implementations are thread-safe.
#pragma once

#include <chrono>

#include "common/shutdown_signal.h"

namespace webhook::poller {

class StopToken {
 public:
  virtual ~StopToken() = default;
  virtual bool stop_requested() const = 0;
  // Sleeps up to `timeout`; returns true (early) when a stop is requested.
  virtual bool wait_for(std::chrono::milliseconds timeout) = 0;
};

// SIGTERM/SIGINT: the signal ends the sleep at once.
class SignalStopToken final : public StopToken {
 public:
  explicit SignalStopToken(const ShutdownSignal& signal) : signal_(signal) {}
  bool stop_requested() const override { return signal_.requested(); }
  bool wait_for(std::chrono::milliseconds timeout) override { return signal_.wait_for(timeout); }

 private:
  const ShutdownSignal& signal_;
};

}  // namespace webhook::poller
