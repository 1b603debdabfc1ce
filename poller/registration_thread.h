// Runs the connector's registration and pings (ConnectorRegistration) on a thread of its
// own, with its own GraphQL client and store connection, so that an unreachable or slow
// platform never delays a poll. The pinged state is every feed's cursor. Owns its thread:
// it starts in the constructor and ends on SIGTERM/SIGINT or in the destructor, which joins.
#pragma once

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/shutdown_signal.h"
#include "common/store/job_store.h"
#include "common/store/open_store.h"
#include "poller/connector_registration.h"
#include "poller/graphql_client.h"

namespace webhook::poller {

// {"feeds": {"<feed>": {"last_poll_time": <cursor in epoch ms, or null>}}}: the state
// pinged to OpenCTI, in the Python connector's terms.
nlohmann::ordered_json feed_cursors_state(store::JobStore& store,
                                          const std::vector<std::string>& feeds);

class RegistrationThread {
 public:
  // Everything is built on the calling thread (libcurl's global init is not thread-safe).
  // Throws when the client or the store cannot be opened.
  RegistrationThread(ConnectorIdentity identity, const GraphqlOptions& graphql,
                     const store::StoreOptions& database, std::vector<std::string> feeds,
                     const Clock& clock, const ShutdownSignal& signal);
  ~RegistrationThread();
  RegistrationThread(const RegistrationThread&) = delete;
  RegistrationThread& operator=(const RegistrationThread&) = delete;

 private:
  class Stop;
  std::unique_ptr<GraphqlClient> client_;
  std::unique_ptr<store::JobStore> store_;
  std::vector<std::string> feeds_;
  std::unique_ptr<ConnectorRegistration> registration_;
  std::unique_ptr<Stop> stop_;
  std::thread thread_;
};

}  // namespace webhook::poller
