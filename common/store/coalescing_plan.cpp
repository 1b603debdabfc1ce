#include "common/store/coalescing_plan.h"

#include <string_view>
#include <unordered_map>

namespace webhook::store {

CoalescingPlan plan_coalescing(std::span<const NewJob> jobs, bool coalesce) {
  CoalescingPlan plan;
  if (!coalesce) return plan;
  plan.superseded.assign(jobs.size(), false);
  // The latest pending job of each key, by index into jobs.
  std::unordered_map<std::string_view, std::size_t> latest;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    const NewJob& job = jobs[i];
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
