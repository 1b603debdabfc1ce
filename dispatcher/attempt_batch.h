// Finished attempts on their way from the dispatch loop to the store thread and back: the
// outcomes to record in one transaction and, in step with them, what the attempt log and the
// listeners need (the job, why it is dead). One type keeps the two in step; the outcomes stay
// one contiguous vector because the store records a span of them. Counts by kind are kept as
// attempts are added, so nobody recounts them. A plain value, moved between the threads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/store/job_store.h"

namespace webhook::dispatcher {

class AttemptBatch {
 public:
  // An attempt's log line material, beside its outcome.
  struct Note {
    store::ClaimedJob job;
    std::string reason;  // why the job is dead, when it is
  };

  void add(store::Outcome outcome, store::ClaimedJob job, std::string reason);
  // Puts `earlier` (a batch the store did not write) in front of this one.
  void prepend(AttemptBatch earlier);

  bool empty() const { return outcomes_.empty(); }
  std::size_t size() const { return outcomes_.size(); }
  const std::vector<store::Outcome>& outcomes() const { return outcomes_; }
  // notes()[i] belongs to outcomes()[i].
  const std::vector<Note>& notes() const { return notes_; }

  int64_t delivered() const { return delivered_; }
  int64_t retried() const { return retried_; }
  int64_t dead() const { return dead_; }
  // The earliest next_attempt_at of the retries, if any.
  std::optional<int64_t> earliest_retry() const { return earliest_retry_; }

 private:
  void count(const store::Outcome& outcome);

  std::vector<store::Outcome> outcomes_;
  std::vector<Note> notes_;
  int64_t delivered_ = 0, retried_ = 0, dead_ = 0;
  std::optional<int64_t> earliest_retry_;
};

}  // namespace webhook::dispatcher
