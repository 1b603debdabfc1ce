#include "common/cluster_membership.h"

#include <algorithm>

namespace webhook {

std::vector<std::string> live_dispatchers(std::span<const store::HeartbeatRow> rows, int64_t now,
                                          std::chrono::milliseconds liveness) {
  std::vector<std::string> live;
  for (const auto& row : rows) {
    // A row from a clock slightly ahead of ours (in the future) is live too.
    // One that said it stopped is gone at once.
    if (row.process == "dispatcher" && !row.stopped_at && row.at > now - liveness.count()) {
      live.push_back(row.worker);
    }
  }
  std::sort(live.begin(), live.end());
  live.erase(std::unique(live.begin(), live.end()), live.end());
  return live;
}

int cluster_share(int cap, std::span<const std::string> live, std::string_view self) {
  std::vector<std::string_view> names(live.begin(), live.end());
  names.push_back(self);
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  const int n = static_cast<int>(names.size());
  const int rank =
      static_cast<int>(std::lower_bound(names.begin(), names.end(), self) - names.begin());
  return cap / n + (rank < cap % n ? 1 : 0);
}

}  // namespace webhook
