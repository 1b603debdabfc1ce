#include "common/store/coalescing_plan.h"

#include <string_view>
#include <unordered_map>

namespace webhook::store {

CoalescingPlan plan_coalescing(const PollCommit& commit) {
  CoalescingPlan plan;
  if (!commit.coalesce) return plan;
  plan.superseded.assign(commit.jobs.size(), false);
  // The latest pending job of each key, by index into commit.jobs.
  std::unordered_map<std::string_view, std::size_t> latest;
  for (std::size_t i = 0; i < commit.jobs.size(); ++i) {
    const NewJob& job = commit.jobs[i];
    if (job.dead || !job.order_key) continue;
    auto [it, first] = latest.try_emplace(*job.order_key, i);
    if (first) {
      plan.keys.push_back(*job.order_key);
    } else {
      plan.superseded[it->second] = true;
      it->second = i;
    }
  }
  return plan;
}

}  // namespace webhook::store
