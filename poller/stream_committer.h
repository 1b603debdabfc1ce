// Commits a stream feed's batches on a thread of its own while the feed's thread reads and
// renders the next batch: on two cores the SSE reading and the SQL, index and fsync work
// overlap. At most one commit is in flight; submitting the next waits for it, so batches
// are written in order and a failed or refused one stops the ones after it (they were
// built on its cursor). The jobs and the cursor of a batch stay in ONE commit_stream, so
// the stored cursor never passes a job not on disk. Borrows the store, which only the
// commit thread uses while a commit is in flight: call wait() before using it otherwise.
// Owned and driven by one thread.
#pragma once

#include <future>

#include "common/store/job_store.h"

namespace webhook::poller {

class StreamCommitter {
 public:
  explicit StreamCommitter(store::JobStore& store) : store_(store) {}
  // Waits for a commit in flight (its failure is dropped: nothing is left to report it to).
  ~StreamCommitter();
  StreamCommitter(const StreamCommitter&) = delete;
  StreamCommitter& operator=(const StreamCommitter&) = delete;

  // Waits for the commit in flight, then starts committing `commit`. Returns false, and
  // drops `commit`, when the one in flight was refused (the stored cursor had moved);
  // rethrows what the one in flight threw.
  bool submit(store::StreamCommit commit);

  // Waits for the commit in flight, if any: false when it was refused; rethrows what it
  // threw. The store is then free for the caller.
  bool wait();

  // Whether a commit is in flight and not finished yet.
  bool busy() const;

 private:
  store::JobStore& store_;
  std::future<bool> in_flight_;
};

}  // namespace webhook::poller
