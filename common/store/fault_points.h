// Named points inside the stores' transactions where a test may make the process fail or
// die, or hold the transaction open ("commit_poll:jobs_written", "commit_poll:before_commit",
// "record_outcomes:first_applied", "reclaim_expired_leases:taken_back"). Every driver
// reaches the same names at the same moments, so one crash test serves them all. The
// drivers only call reached(); FaultInjectingStore decides what happens. Implementations
// are called on the store's thread.
#pragma once

#include <string_view>

namespace webhook::store {

class FaultPoints {
 public:
  virtual ~FaultPoints() = default;
  // May throw (the transaction rolls back) or end the process.
  virtual void reached(std::string_view point) = 0;
};

}  // namespace webhook::store
