#include "poller/connector_registration.h"

#include <algorithm>
#include <exception>

#include "common/config.h"
#include "common/logging.h"
#include "poller/poll_loop.h"

namespace webhook::poller {
namespace {

using Json = nlohmann::ordered_json;

// The documents pycti sends, selecting only fields every platform since 5.5 has.
constexpr const char* kRegisterMutation =
    "mutation RegisterConnector($input: RegisterConnectorInput) {"
    " registerConnector(input: $input) { id connector_state } }";
constexpr const char* kPingMutation =
    "mutation PingConnector($id: ID!, $state: String) {"
    " pingConnector(id: $id, state: $state) { id connector_state } }";

std::vector<std::string> split_scope(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto comma = text.find(',', start);
    std::string item = text.substr(start, comma == std::string::npos ? comma : comma - start);
    auto first = item.find_first_not_of(" \t");
    if (first != std::string::npos) {
      out.push_back(item.substr(first, item.find_last_not_of(" \t") - first + 1));
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace

std::optional<std::string> registered_start_from(const ConnectorIdentity& identity,
                                                 GraphqlEndpoint& endpoint, const std::string& feed,
                                                 bool only_stream_feed, std::string& error,
                                                 const CancelFn& cancel) {
  GraphqlResponse r = endpoint.execute(kRegisterMutation, identity.register_variables(), cancel);
  if (!r.ok()) {
    error = r.error;
    return std::nullopt;
  }
  const Json* node = &r.document;
  for (const char* key : {"data", "registerConnector", "connector_state"}) {
    if (!node->is_object() || !node->contains(key)) return std::nullopt;
    node = &(*node)[key];
  }
  if (!node->is_string()) return std::nullopt;
  Json state = Json::parse(node->get<std::string>(), nullptr, false);
  if (!state.is_object()) return std::nullopt;
  auto text = [](const Json& j, const char* key) -> std::optional<std::string> {
    if (!j.is_object()) return std::nullopt;
    auto it = j.find(key);
    if (it == j.end() || !it->is_string() || it->get<std::string>().empty()) return std::nullopt;
    return it->get<std::string>();
  };
  if (auto feeds = state.find("feeds"); feeds != state.end() && feeds->is_object()) {
    if (auto entry = feeds->find(feed); entry != feeds->end()) {
      if (auto id = text(*entry, "start_from")) return id;
    }
  }
  if (!only_stream_feed) return std::nullopt;
  if (auto id = text(state, "start_from")) return id;
  return text(state, "connectorLastEventId");
}

std::optional<ConnectorIdentity> ConnectorIdentity::from_config(const Config& config) {
  if (!config.is_set("CONNECTOR_ID")) return std::nullopt;
  ConnectorIdentity identity;
  identity.id = config.string("CONNECTOR_ID");
  identity.name = config.string("CONNECTOR_NAME");
  identity.type = config.string("CONNECTOR_TYPE");
  // The Python webhook connector's README asks for this placeholder; the platform has no
  // such type, and this program reads OpenCTI to act elsewhere, as stream connectors do.
  if (identity.type == "Template_Type") identity.type = "STREAM";
  identity.scope = split_scope(config.string("CONNECTOR_SCOPE"));
  identity.auto_run = config.boolean("CONNECTOR_AUTO");
  identity.only_contextual = config.boolean("CONNECTOR_ONLY_CONTEXTUAL");
  return identity;
}

Json ConnectorIdentity::register_variables() const {
  return Json{{"input",
               {{"id", id},
                {"name", name},
                {"type", type},
                {"scope", scope},
                {"auto", auto_run},
                {"only_contextual", only_contextual}}}};
}

ConnectorRegistration::ConnectorRegistration(ConnectorIdentity identity, GraphqlEndpoint& endpoint,
                                             StateFn state, const Clock& clock,
                                             std::chrono::milliseconds ping_interval)
    : identity_(std::move(identity)),
      endpoint_(endpoint),
      state_(std::move(state)),
      clock_(clock),
      ping_interval_(ping_interval),
      next_attempt_(clock.now_ms()) {}

int64_t ConnectorRegistration::run_due(const CancelFn& cancel) {
  int64_t now = clock_.now_ms();
  if (now < next_attempt_) return next_attempt_;
  if (!registered_) register_connector(now, cancel);
  // A registration that just succeeded pings at once, so the state shows without delay.
  if (registered_ && clock_.now_ms() >= next_attempt_) ping(clock_.now_ms(), cancel);
  return next_attempt_;
}

void ConnectorRegistration::run(StopToken& stop) {
  CancelFn cancel = [&stop] { return stop.stop_requested(); };
  while (!stop.stop_requested()) {
    int64_t next = run_due(cancel);
    int64_t wait = next - clock_.now_ms();
    if (wait > 0 && stop.wait_for(std::chrono::milliseconds(wait))) break;
  }
}

void ConnectorRegistration::register_connector(int64_t now, const CancelFn& cancel) {
  GraphqlResponse response =
      endpoint_.execute(kRegisterMutation, identity_.register_variables(), cancel);
  if (response.cancelled) return;
  if (response.ok()) {
    registered_ = true;
    register_failures_ = 0;
    next_attempt_ = now;
    log_event(spdlog::level::info, "registered with OpenCTI as a connector",
              {{"connector_id", identity_.id},
               {"connector_name", identity_.name},
               {"connector_type", identity_.type}});
    return;
  }
  ++register_failures_;
  auto delay = PollLoop::backoff(register_failures_, ping_interval_);
  next_attempt_ = now + delay.count();
  log_event(spdlog::level::warn, "cannot register with OpenCTI as a connector; polling goes on",
            {{"connector_id", identity_.id},
             {"error", response.error},
             {"failures", register_failures_},
             {"retry_in_ms", delay.count()}});
}

void ConnectorRegistration::ping(int64_t now, const CancelFn& cancel) {
  try {
    last_state_ = state_().dump();
  } catch (const std::exception& e) {
    log_event(spdlog::level::warn, "cannot read the feed cursors; pinging the last known state",
              {{"error", e.what()}});
  }
  GraphqlResponse response =
      endpoint_.execute(kPingMutation, Json{{"id", identity_.id}, {"state", last_state_}}, cancel);
  if (response.cancelled) return;
  if (response.ok()) {
    ping_failures_ = 0;
    ++pings_;
    next_attempt_ = now + ping_interval_.count();
    log_event(spdlog::level::debug, "pinged OpenCTI", {{"connector_id", identity_.id}});
    return;
  }
  // Counted across re-registrations, so a platform that keeps refusing pings is asked less
  // and less often, never more than twice an interval.
  ++ping_failures_;
  auto delay = PollLoop::backoff(ping_failures_, ping_interval_);
  next_attempt_ = now + delay.count();
  // The platform answered with an error: it may have forgotten the connector (deleted in
  // its connector screen, or a reset platform), so register again before the next ping.
  bool platform_refused = !response.code.empty();
  if (platform_refused) registered_ = false;
  log_event(spdlog::level::warn, "ping to OpenCTI failed; polling goes on",
            {{"connector_id", identity_.id},
             {"error", response.error},
             {"failures", ping_failures_},
             {"retry_in_ms", delay.count()},
             {"register_again", platform_refused}});
}

}  // namespace webhook::poller
