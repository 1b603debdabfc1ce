// The OpenCTI GraphQL client: posts {"query", "variables"} to {OPENCTI_URL}/graphql the way
// OpenCTI's Python client does and returns the whole JSON answer, or an error value that
// carries the platform's error name. GraphqlEndpoint is the seam the poll loop is written
// against (benchmarks replace it); GraphqlClient is the libcurl one. A GraphqlClient holds
// one curl handle (connections are reused) and is used by one thread at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace webhook {
class Config;
}

namespace webhook::poller {

// One answer of the platform. On failure `error` says what went wrong in one line (never
// with the token) and `code` holds the GraphQL error name (extensions.code, e.g.
// AUTH_REQUIRED) when the platform gave one.
struct GraphqlResponse {
  nlohmann::ordered_json document;  // the whole answer, {"data": ...}, on success
  int http_status = 0;              // 0 when no HTTP answer arrived
  std::string code;
  std::string error;
  bool cancelled = false;  // the caller's cancel function stopped the request
  int64_t body_bytes = 0;  // the size of the body received
  bool ok() const { return error.empty(); }
};

// Returns true to abandon the request in flight (shutdown).
using CancelFn = std::function<bool()>;

class GraphqlEndpoint {
 public:
  virtual ~GraphqlEndpoint() = default;
  virtual GraphqlResponse execute(std::string_view query, const nlohmann::ordered_json& variables,
                                  const CancelFn& cancel = {}) = 0;
};

struct GraphqlOptions {
  std::string url;    // OPENCTI_URL; a trailing slash is tolerated
  std::string token;  // OPENCTI_TOKEN, sent as a Bearer token
  std::vector<std::pair<std::string, std::string>> custom_headers;  // OPENCTI_CUSTOM_HEADERS
  bool ssl_verify = true;                                           // OPENCTI_SSL_VERIFY
  std::string ca_file;                                              // OPENCTI_CA_FILE
  std::chrono::milliseconds timeout{60000};                         // WEBHOOK_GRAPHQL_TIMEOUT
  int64_t max_response_bytes = 64ll << 20;  // WEBHOOK_GRAPHQL_MAX_RESPONSE_BYTES
  std::string user_agent = std::string("opencti-webhook/") + WEBHOOK_VERSION;

  // From the OPENCTI_* and WEBHOOK_GRAPHQL_* settings. Throws std::invalid_argument naming
  // the setting when OPENCTI_CUSTOM_HEADERS is malformed.
  static GraphqlOptions from_config(const Config& config);
};

// "h1:v1;h2:v2" -> {{"h1","v1"},{"h2","v2"}}. Throws std::invalid_argument saying which
// entry is malformed.
std::vector<std::pair<std::string, std::string>> parse_custom_headers(std::string_view text);

// The version in an answer to `query { about { version } }`, or "unknown".
std::string platform_version(const GraphqlResponse& about);

// {OPENCTI_URL}/graphql, tolerating trailing slashes on the URL.
std::string graphql_endpoint_url(std::string_view opencti_url);

class GraphqlClient final : public GraphqlEndpoint {
 public:
  explicit GraphqlClient(GraphqlOptions options);
  ~GraphqlClient() override;
  GraphqlClient(const GraphqlClient&) = delete;
  GraphqlClient& operator=(const GraphqlClient&) = delete;

  GraphqlResponse execute(std::string_view query, const nlohmann::ordered_json& variables,
                          const CancelFn& cancel = {}) override;

  // `query { about { version } }`: the platform's version (see platform_version), or the
  // error.
  GraphqlResponse about(const CancelFn& cancel = {});

  // The endpoint as shown in messages (without any user:password part).
  const std::string& display_url() const { return display_url_; }

 private:
  struct Handle;
  GraphqlOptions options_;
  std::string endpoint_;
  std::string display_url_;
  std::unique_ptr<Handle> handle_;
};

}  // namespace webhook::poller
