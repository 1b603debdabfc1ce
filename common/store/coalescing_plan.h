// What coalescing (JobOrdering::coalesce) does to one commit, worked out before any row is
// written so that every store driver supersedes the same jobs: which of the commit's own
// jobs a later job of the same key replaces, and the keys whose earlier pending jobs (already
// stored, never tried) become `superseded`. Stateless; thread-safe.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "common/store/job_store.h"

namespace webhook::store {

struct CoalescingPlan {
  // superseded[i]: jobs[i] is stored `superseded` (a later pending job of the commit
  // has its key). Empty when the commit does not coalesce.
  std::vector<bool> superseded;
  // The keys of the commit's pending ordered jobs, each once, in first-seen order: the
  // stored pending, never tried jobs of these keys (and of the commit's feed) are superseded.
  std::vector<std::string> keys;
};

// Only pending jobs supersede (a job that could not be rendered replaces nothing), and a
// job stored dead is never marked superseded.
CoalescingPlan plan_coalescing(std::span<const NewJob> jobs, bool coalesce);

}  // namespace webhook::store
