// The connectors a fake OpenCTI knows, kept by the two mutations connectors send:
// `registerConnector(input: RegisterConnectorInput)` (creates or updates) and
// `pingConnector(id: ID!, state: String, connectorInfo: ConnectorInfoInput)`. Arguments and
// variable declarations are checked against the platform's schema (unknown fields, wrong
// types, missing required values and enum values are refused as the platform refuses them),
// and every accepted call is recorded. Thread-safe.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "tests/support/graphql_document.h"

namespace webhook::testing {

struct FakeConnector {
  std::string id;
  std::string name;
  std::string type;
  nlohmann::ordered_json scope = nlohmann::ordered_json::array();
  bool auto_run = false;
  bool only_contextual = false;
  std::optional<std::string> state;  // connector_state, as last pinged
  int64_t registered_at = 0;         // epoch ms of the last registration
  int64_t last_ping_at = 0;          // 0: never pinged
  int registrations = 0;
  int pings = 0;
};

// One accepted mutation: its name and its arguments (variables resolved).
struct FakeConnectorCall {
  std::string mutation;  // registerConnector | pingConnector
  nlohmann::ordered_json arguments;
  int64_t at = 0;
};

class FakeConnectors {
 public:
  // `clock` stamps the calls; it must outlive this object.
  explicit FakeConnectors(const Clock& clock) : clock_(clock) {}

  // The `data` member answering a mutation. Throws FakeQueryError.
  nlohmann::ordered_json evaluate(const GraphqlOperation& operation);

  std::optional<FakeConnector> find(const std::string& id) const;
  std::vector<FakeConnectorCall> calls() const;
  std::size_t call_count(const std::string& mutation) const;
  // As OpenCTI's connector screen says: pinged within the last five minutes.
  bool active(const std::string& id) const;
  // The connectors are deleted (from the connector screen, or a platform reset).
  void forget_all();

 private:
  nlohmann::ordered_json register_connector(const GraphqlField& field);
  nlohmann::ordered_json ping_connector(const GraphqlField& field);

  const Clock& clock_;
  mutable std::mutex mutex_;
  std::vector<FakeConnector> connectors_;
  std::vector<FakeConnectorCall> calls_;
};

}  // namespace webhook::testing
