// Requests in flight per receiver host, for the dispatch loop's WEBHOOK_CLUSTER_HOST_CONCURRENCY
// gate: a job whose host already has its limit waits in the loop (not in curl's queue) so it
// can go back to the store uncharged when it waits too long. Hosts are keyed by origin
// (scheme, host, port, as curl parses them). A plain value; the loop's thread only.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace webhook::dispatcher {

class HostSlots {
 public:
  // The key of the host `url` goes to: its origin, or the URL itself when it does not parse
  // (such a job fails before it is sent).
  static std::string key(std::string_view url);

  int in_flight(const std::string& key) const;
  void started(const std::string& key) { ++in_flight_[key]; }
  void finished(const std::string& key);

 private:
  std::map<std::string, int, std::less<>> in_flight_;  // hosts with requests in flight only
};

}  // namespace webhook::dispatcher
