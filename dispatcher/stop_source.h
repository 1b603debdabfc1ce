// Where the dispatch loop learns that it should stop: how many stop requests arrived (a
// second one means "now") and a file descriptor that becomes readable on the first.
// SignalStopSource adapts the process's ShutdownSignal; ManualStopSource lets a test (or an
// embedding program) stop a loop in-process. Both are safe to request from any thread.
#pragma once

#include <atomic>

#include "common/shutdown_signal.h"

namespace webhook::dispatcher {

class StopSource {
 public:
  virtual ~StopSource() = default;
  virtual int count() const = 0;
  // Readable once count() > 0; never drained.
  virtual int fd() const = 0;
};

class SignalStopSource final : public StopSource {
 public:
  explicit SignalStopSource(const ShutdownSignal& signal) : signal_(signal) {}
  int count() const override { return signal_.count(); }
  int fd() const override { return signal_.fd(); }

 private:
  const ShutdownSignal& signal_;
};

class ManualStopSource final : public StopSource {
 public:
  ManualStopSource();
  ~ManualStopSource() override;
  ManualStopSource(const ManualStopSource&) = delete;
  ManualStopSource& operator=(const ManualStopSource&) = delete;

  void request();
  int count() const override { return count_.load(); }
  int fd() const override { return pipe_[0]; }

 private:
  std::atomic<int> count_{0};
  int pipe_[2] = {-1, -1};
};

}  // namespace webhook::dispatcher
