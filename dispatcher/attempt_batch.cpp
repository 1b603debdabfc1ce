#include "dispatcher/attempt_batch.h"

#include <algorithm>
#include <iterator>

namespace webhook::dispatcher {

void AttemptBatch::add(store::Outcome outcome, store::ClaimedJob job, std::string reason) {
  count(outcome);
  outcomes_.push_back(std::move(outcome));
  notes_.push_back(Note{std::move(job), std::move(reason)});
}

void AttemptBatch::prepend(AttemptBatch earlier) {
  for (const store::Outcome& outcome : earlier.outcomes_) count(outcome);
  outcomes_.insert(outcomes_.begin(), std::make_move_iterator(earlier.outcomes_.begin()),
                   std::make_move_iterator(earlier.outcomes_.end()));
  notes_.insert(notes_.begin(), std::make_move_iterator(earlier.notes_.begin()),
                std::make_move_iterator(earlier.notes_.end()));
}

void AttemptBatch::count(const store::Outcome& outcome) {
  switch (outcome.kind) {
    case store::OutcomeKind::kDelivered:
      ++delivered_;
      break;
    case store::OutcomeKind::kDead:
      ++dead_;
      break;
    case store::OutcomeKind::kRetry:
      ++retried_;
      earliest_retry_ =
          std::min(earliest_retry_.value_or(outcome.next_attempt_at), outcome.next_attempt_at);
      break;
  }
}

}  // namespace webhook::dispatcher
