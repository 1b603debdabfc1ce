// A gate that holds the thread which reaches it (a store call at a fault point, typically:
// FaultInjectingStore::at) until the test releases it, so a test can act while a
// transaction is provably open. The hold also ends after `deadline`, so a test that fails
// before releasing it fails on what it waited for instead of hanging. Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace webhook::testing {

class HoldGate {
 public:
  explicit HoldGate(std::chrono::milliseconds deadline = std::chrono::seconds(60))
      : deadline_(deadline) {}

  // Blocks the calling thread until release() or the deadline.
  void hold() {
    std::unique_lock lock(mutex_);
    held_ = true;
    changed_.notify_all();
    changed_.wait_for(lock, deadline_, [this] { return released_; });
  }
  bool held() {
    std::lock_guard lock(mutex_);
    return held_;
  }
  // Waits until a thread is held, up to the deadline; true if one is.
  bool wait_held() {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, deadline_, [this] { return held_; });
  }
  void release() {
    std::lock_guard lock(mutex_);
    released_ = true;
    changed_.notify_all();
  }

 private:
  const std::chrono::milliseconds deadline_;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool held_ = false;
  bool released_ = false;
};

}  // namespace webhook::testing
