// A scriptable webhook receiver for tests and the end-to-end sink: an HTTP(S) server on
// 127.0.0.1 (ephemeral port, cpp-httplib) that logs every request (method, target, headers,
// body, arrival time) and answers from a script per path or a global one: any status,
// "fail the first K tries", stall, drop the connection, 429/503 with Retry-After.
// No GoogleTest inside, so a standalone program can wrap it. Thread-safe: the server runs on
// its own threads; every method may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace webhook::testing {

// One answer.
struct Reply {
  int status = 200;
  std::string body;
  std::map<std::string, std::string> headers;  // e.g. {"Retry-After", "2"}
  // Wait this long before answering (cut short by release_stalls() or stop()).
  std::chrono::milliseconds stall{0};
  // Send the status line and headers, then close the connection before the body.
  bool drop_connection = false;

  static Reply status_only(int status) { return Reply{status, {}, {}, {}, false}; }
  static Reply retry_after(int status, std::string value) {
    return Reply{status, {}, {{"Retry-After", std::move(value)}}, {}, false};
  }
  static Reply stalled(std::chrono::milliseconds how_long, int status = 200) {
    return Reply{status, {}, {}, how_long, false};
  }
};

// The n-th request (0-based) to a path gets first[n], later ones `then`.
struct Script {
  std::vector<Reply> first;
  Reply then;

  static Script always(Reply reply) { return Script{{}, std::move(reply)}; }
  // The first `tries` requests get `failure`, the rest `success`.
  static Script fail_first(int tries, Reply failure, Reply success = Reply{}) {
    return Script{std::vector<Reply>(static_cast<std::size_t>(tries), failure), std::move(success)};
  }
};

struct ReceivedRequest {
  std::string method;
  std::string path;                                 // without the query string
  std::string target;                               // path and query, as sent
  std::multimap<std::string, std::string> headers;  // names as sent
  std::string body;
  int64_t received_at_ms = 0;  // system clock, epoch ms
  int try_number = 0;          // 0-based among requests to this path
  int status = 0;              // what was answered (0: the connection was dropped)
  std::string remote_addr;     // the sender's address, as the server saw it

  // The first header named `name` (case-insensitive), or "".
  std::string header(const std::string& name) const;
};

struct TlsFiles {
  std::string certificate_pem;
  std::string private_key_pem;
};

class TestReceiver {
 public:
  // Starts listening at once on `host` (127.0.0.1, or a test host's own address, see
  // NetnsLab) and an ephemeral port; HTTPS when `tls` is given. `threads` bounds the
  // connections served at the same time; `port` 0 picks a free one. Throws std::runtime_error.
  explicit TestReceiver(std::optional<TlsFiles> tls = std::nullopt, int threads = 64, int port = 0,
                        std::string host = "127.0.0.1");
  ~TestReceiver();  // stops
  TestReceiver(const TestReceiver&) = delete;
  TestReceiver& operator=(const TestReceiver&) = delete;

  int port() const { return port_; }
  // "http://HOST:PORT" + path (https for a TLS receiver).
  std::string url(const std::string& path) const;

  void set_script(const std::string& path, Script script);
  void set_default_script(Script script);  // for paths without a script of their own

  // Ends every stall in progress and every later one (until reset_stalls()).
  void release_stalls();
  void reset_stalls();

  std::vector<ReceivedRequest> requests() const;
  std::vector<ReceivedRequest> requests_to(const std::string& path) const;
  // The requests from index `from` on (for a log that is written as requests come).
  std::vector<ReceivedRequest> requests_since(std::size_t from) const;
  std::size_t count() const;
  // Waits until `predicate(requests())` holds or `timeout` passes; returns whether it held.
  bool wait_until(const std::function<bool(const std::vector<ReceivedRequest>&)>& predicate,
                  std::chrono::milliseconds timeout) const;
  bool wait_for_count(std::size_t n, std::chrono::milliseconds timeout) const;

  // The most requests being handled at once (arrived, not yet answered) since the start or
  // reset_max_in_flight(), which starts again from those in progress now.
  int max_in_flight() const;
  void reset_max_in_flight();

  void stop();

 private:
  struct Server;
  // Counts a request in progress for as long as it lives.
  class InFlight {
   public:
    explicit InFlight(TestReceiver& receiver);
    ~InFlight();
    InFlight(const InFlight&) = delete;
    InFlight& operator=(const InFlight&) = delete;

   private:
    TestReceiver& receiver_;
  };
  Reply next_reply(const std::string& path, int& try_number);
  void record(ReceivedRequest request);
  void stall(std::chrono::milliseconds how_long);

  std::unique_ptr<Server> server_;
  std::string host_;
  int port_ = 0;
  bool tls_ = false;

  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::map<std::string, Script> scripts_;
  Script default_script_;
  std::map<std::string, int> tries_;
  std::vector<ReceivedRequest> requests_;
  int in_flight_ = 0;
  int max_in_flight_ = 0;
  bool released_ = false;
  bool stopping_ = false;
};

// Writes a self-signed certificate for 127.0.0.1 / localhost and its key into `folder`
// (with OpenSSL's API) and returns their paths.
TlsFiles make_self_signed_certificate(const std::string& folder);

}  // namespace webhook::testing
