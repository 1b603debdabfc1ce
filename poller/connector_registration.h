// The poller's presence in OpenCTI's connector list: registers the connector with
// `registerConnector` as OpenCTI's Python connectors do, then pings it with `pingConnector`
// (the feed cursors as its state) every 40 s, so that the platform shows it active. Failures
// are logged and retried with backoff, never fatal. It borrows its endpoint and clock; one
// thread drives it (run_due() or run()), apart from the poll loops so polls never wait on it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "poller/graphql_client.h"
#include "poller/stop_token.h"

namespace webhook {
class Config;
}

namespace webhook::poller {

// OpenCTI marks a connector inactive when its last ping is five minutes old; its own
// connectors ping every 40 s.
inline constexpr std::chrono::milliseconds kConnectorPingInterval{40'000};

// What registerConnector says about this connector: the input fields every platform since
// 5.5 accepts.
struct ConnectorIdentity {
  std::string id;                  // CONNECTOR_ID, a UUID
  std::string name;                // CONNECTOR_NAME
  std::string type = "STREAM";     // CONNECTOR_TYPE, a ConnectorType value
  std::vector<std::string> scope;  // CONNECTOR_SCOPE, split at commas
  bool auto_run = false;           // CONNECTOR_AUTO
  bool only_contextual = false;    // CONNECTOR_ONLY_CONTEXTUAL

  // From the CONNECTOR_* settings; nullopt when CONNECTOR_ID is not set (no registration).
  static std::optional<ConnectorIdentity> from_config(const Config& config);

  // {"input": {...}}: the variables of the registerConnector mutation.
  nlohmann::ordered_json register_variables() const;
};

// Registers once and reads, from the connector state the platform returns, where a stream
// feed left off: `feeds.<feed>.start_from` (this program's state), else pycti's
// `start_from` (or its older `connectorLastEventId`) when `only_stream_feed` is true.
// nullopt when the platform knows nothing, or cannot be reached (`error` then says why).
std::optional<std::string> registered_start_from(const ConnectorIdentity& identity,
                                                 GraphqlEndpoint& endpoint, const std::string& feed,
                                                 bool only_stream_feed, std::string& error,
                                                 const CancelFn& cancel = {});

class ConnectorRegistration {
 public:
  // The connector's state as pinged (a JSON object); may throw, and the last state that
  // could be read is then sent again.
  using StateFn = std::function<nlohmann::ordered_json()>;

  ConnectorRegistration(ConnectorIdentity identity, GraphqlEndpoint& endpoint, StateFn state,
                        const Clock& clock,
                        std::chrono::milliseconds ping_interval = kConnectorPingInterval);

  // Registers or pings when that is due (a successful registration pings at once); returns
  // the epoch-ms time of the next attempt. `cancel` abandons a request in flight.
  int64_t run_due(const CancelFn& cancel = {});

  // Until a stop is requested; a stop ends the wait at once and abandons a request.
  void run(StopToken& stop);

  bool registered() const { return registered_; }
  int64_t pings() const { return pings_; }  // successful ones

 private:
  void register_connector(int64_t now, const CancelFn& cancel);
  void ping(int64_t now, const CancelFn& cancel);

  ConnectorIdentity identity_;
  GraphqlEndpoint& endpoint_;
  StateFn state_;
  const Clock& clock_;
  std::chrono::milliseconds ping_interval_;
  bool registered_ = false;
  int64_t next_attempt_ = 0;
  int register_failures_ = 0;
  int ping_failures_ = 0;
  int64_t pings_ = 0;
  std::string last_state_ = "{}";
};

}  // namespace webhook::poller
