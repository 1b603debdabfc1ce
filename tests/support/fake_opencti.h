// An OpenCTI platform for tests: a cpp-httplib server on 127.0.0.1 (ephemeral port) that
// answers POST /graphql as the platform does (Bearer token checked, 401 otherwise; parse and
// validation errors as HTTP 400; other errors as 200 with `errors`), serving the records of
// a FakeRecords, keeping the connectors that register and ping (FakeConnectors), recording
// every request, and failing on demand (502, stalls, malformed,
// empty, truncated or huge bodies, GraphQL errors, any raw body). Records may hold raw JSON
// text that nlohmann cannot build (hostile answers: deep nesting, lone surrogates, 1e999). No gtest
// inside, so that a standalone program can wrap it. Thread-safe; the server runs on its own
// threads.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "tests/support/fake_connectors.h"
#include "tests/support/fake_records.h"

namespace httplib {
class Server;
}

namespace webhook::testing {

struct FakeFailure {
  enum class Kind {
    kHttpStatus,         // `status` with a plain-text body (a proxy's 502)
    kBadRequestErrors,   // 400 with `errors` (code, message)
    kGraphqlErrors,      // 200 with `errors` (code, message) and data null
    kMalformedJson,      // 200, text that is not JSON
    kEmptyBody,          // 200, no body
    kTruncatedJson,      // 200, the first half of a real answer
    kTruncatedTransfer,  // the connection closes before Content-Length bytes
    kHugeBody,           // 200, valid JSON of `bytes` bytes
    kStall,              // answers only after `stall` (or release_stalls())
    kRawBody,            // 200 with `body`, byte for byte
  };
  Kind kind = Kind::kHttpStatus;
  int status = 502;
  std::string code = "INTERNAL_SERVER_ERROR";
  std::string message = "injected failure";
  std::size_t bytes = 0;
  // kHttpStatus: the body sent (text/plain), empty for a proxy's HTML page; kRawBody: the
  // body sent byte for byte.
  std::string body;
  std::chrono::milliseconds stall{30000};
  // Empty: the failure hits the next request. Otherwise the next request whose first root
  // field is this one (`pingConnector`, `works`), so tests aim at one caller.
  std::string field;

  static FakeFailure http_status(int status);
  static FakeFailure bad_request(std::string code, std::string message);
  static FakeFailure graphql_errors(std::string code, std::string message);
  static FakeFailure of(Kind kind);
  static FakeFailure huge(std::size_t bytes);
  static FakeFailure stalled(std::chrono::milliseconds duration);
  static FakeFailure raw_body(std::string body);
};

// One request as the fake saw it.
struct FakeRequest {
  std::string path;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string query;  // the GraphQL text ("" when the body was not JSON)
  std::string field;  // the first root field (`works`, `registerConnector`); "" if unparsed
  nlohmann::ordered_json variables;
  int status = 0;        // what the fake answered (0: failure without a status)
  std::string response;  // the body of a normal answer (empty for injected failures)
};

struct FakeOpenctiOptions {
  std::string token = "fake-opencti-token-5f1c";
  int port = 0;  // 0: a free ephemeral port
  // The address listened on: loopback, or a test host's own (see NetnsLab).
  std::string host = "127.0.0.1";
  FakeRecordsOptions records;
  // Both set: serve HTTPS with this PEM certificate and key (url() says https://).
  std::string tls_cert_file;
  std::string tls_key_file;
};

class FakeOpencti {
 public:
  // Starts listening at once. `clock` (default: the system clock) decides visibility.
  explicit FakeOpencti(FakeOpenctiOptions options = {}, const Clock* clock = nullptr);
  ~FakeOpencti();
  FakeOpencti(const FakeOpencti&) = delete;
  FakeOpencti& operator=(const FakeOpencti&) = delete;

  // Stops answering (connections are refused) and starts again on the same port, with the
  // records kept: the platform going down and coming back.
  void stop();
  void start();

  int port() const { return port_; }
  std::string url() const;  // http(s)://127.0.0.1:PORT, what OPENCTI_URL holds
  const std::string& token() const { return options_.token; }

  FakeRecords& records() { return records_; }
  // A value to put in a record that the answer carries as `json_text`, written as is: what
  // a platform can send but no nlohmann tree can hold (`"\\ud800"`, `1e999`, deep nesting).
  nlohmann::ordered_json raw_json(std::string json_text);
  FakeConnectors& connectors() { return connectors_; }

  // The next `times` requests (those asking for `failure.field` when set) fail that way,
  // in order of the calls. A failure that sends no real answer leaves mutations undone.
  void fail_next(const FakeFailure& failure, int times = 1);
  // Lets stalled requests answer now.
  void release_stalls();

  std::vector<FakeRequest> requests() const;
  // The requests from index `from` on (for a log written as requests come).
  std::vector<FakeRequest> requests_since(std::size_t from) const;
  std::size_t request_count() const;
  void clear_requests();

  // The HTTP status and body answering one GraphQL POST: the logic behind the server,
  // without failures, usable on its own.
  std::pair<int, std::string> answer(const std::string& authorization, const std::string& body,
                                     FakeRequest* record = nullptr) const;

 private:
  void serve();

  FakeOpenctiOptions options_;
  SystemClock system_clock_;
  FakeRecords records_;
  // Mutable: answer() is const for queries, and mutations are what change the platform.
  mutable FakeConnectors connectors_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;

  mutable std::mutex mutex_;
  std::condition_variable stall_cv_;
  std::deque<FakeFailure> failures_;
  mutable std::vector<std::string> raw_values_;  // raw_json()'s texts, by marker number
  std::vector<FakeRequest> requests_;
  int64_t stall_generation_ = 0;
};

}  // namespace webhook::testing
