#include "poller/stream_committer.h"

#include <chrono>
#include <utility>

namespace webhook::poller {

StreamCommitter::~StreamCommitter() {
  if (!in_flight_.valid()) return;
  try {
    in_flight_.get();
  } catch (...) {
    // The feed is unwinding from an error of its own; the next connection reads the
    // stored cursor, which says whether this commit happened.
  }
}

bool StreamCommitter::submit(store::StreamCommit commit) {
  if (!wait()) return false;
  // A thread per batch (hundreds of events each): its start costs little beside the
  // commit, and std::async carries the commit's exception back to wait().
  in_flight_ = std::async(std::launch::async,
                          [this, c = std::move(commit)] { return store_.commit_stream(c); });
  return true;
}

bool StreamCommitter::wait() {
  if (!in_flight_.valid()) return true;
  return in_flight_.get();  // leaves it invalid, also when it throws
}

bool StreamCommitter::busy() const {
  return in_flight_.valid() &&
         in_flight_.wait_for(std::chrono::seconds(0)) != std::future_status::ready;
}

}  // namespace webhook::poller
