#include "ctl/dispatcher_fleet.h"

#include <algorithm>
#include <string>
#include <vector>

#include "common/cluster_membership.h"
#include "ctl/table_printer.h"
#include "ctl/time_text.h"

namespace webhook::ctl {
namespace {

constexpr int64_t kShownGoneFor = 86'400'000;  // a day

struct Member {
  const store::HeartbeatRow* row;
  bool live;
  std::optional<int> share;
};

std::vector<Member> members(std::span<const store::HeartbeatRow> rows, int64_t now,
                            const FleetRule& rule) {
  const std::vector<std::string> live =
      live_dispatchers(rows, now, dispatcher_liveness(rule.heartbeat_every));
  std::vector<Member> out;
  for (const auto& row : rows) {
    if (row.process != "dispatcher") continue;
    Member m{&row, std::binary_search(live.begin(), live.end(), row.worker), std::nullopt};
    if (m.live && rule.cluster_cap) m.share = cluster_share(*rule.cluster_cap, live, row.worker);
    out.push_back(m);
  }
  std::sort(out.begin(), out.end(), [](const Member& a, const Member& b) {
    if (a.live != b.live) return a.live;
    if (a.live) return a.row->worker < b.row->worker;
    return a.row->at > b.row->at;
  });
  return out;
}

}  // namespace

FleetRule fleet_rule_from_config(const Config& config) {
  FleetRule rule;
  rule.heartbeat_every = config.duration("WEBHOOK_DISPATCHER_HEARTBEAT_INTERVAL");
  if (config.is_set("WEBHOOK_CLUSTER_HOST_CONCURRENCY")) {
    rule.cluster_cap = static_cast<int>(config.integer("WEBHOOK_CLUSTER_HOST_CONCURRENCY"));
  }
  return rule;
}

nlohmann::ordered_json dispatchers_json(std::span<const store::HeartbeatRow> rows, int64_t now,
                                        const FleetRule& rule) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const Member& m : members(rows, now, rule)) {
    out.push_back(
        {{"worker", m.row->worker},
         {"last_heartbeat", m.row->at},
         {"live", m.live},
         {"stopped_at", m.row->stopped_at ? nlohmann::ordered_json(*m.row->stopped_at) : nullptr},
         {"share", m.share ? nlohmann::ordered_json(*m.share) : nullptr}});
  }
  return out;
}

void print_dispatchers(std::ostream& out, std::span<const store::HeartbeatRow> rows, int64_t now,
                       const FleetRule& rule) {
  const std::vector<Member> all = members(rows, now, rule);
  if (all.empty()) {
    out << "dispatchers: none ever ran\n";
    return;
  }
  const int64_t live_ms = dispatcher_liveness(rule.heartbeat_every).count();
  const int live = static_cast<int>(
      std::count_if(all.begin(), all.end(), [](const Member& m) { return m.live; }));
  out << "dispatchers: " << live << " live (a heartbeat within " << format_age(live_ms) << ")";
  if (rule.cluster_cap) out << ", sharing a cap of " << *rule.cluster_cap << " requests per host";
  out << "\n";
  std::vector<std::string> header = {"DISPATCHER", "LAST HEARTBEAT", "AGO", "STATE"};
  if (rule.cluster_cap) header.push_back("SHARE");
  TablePrinter table(header);
  int hidden = 0;
  for (const Member& m : all) {
    if (!m.live && now - m.row->at > kShownGoneFor) {
      ++hidden;
      continue;
    }
    std::vector<std::string> cells = {m.row->worker, format_utc(m.row->at),
                                      format_age(std::max<int64_t>(0, now - m.row->at)),
                                      m.live              ? "live"
                                      : m.row->stopped_at ? "stopped"
                                                          : "gone"};
    if (rule.cluster_cap) cells.push_back(m.share ? std::to_string(*m.share) : "-");
    table.add_row(std::move(cells));
  }
  if (!table.empty()) table.print(out);
  if (hidden > 0) out << hidden << " more gone for over a day\n";
}

}  // namespace webhook::ctl
