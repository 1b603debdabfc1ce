// An OpenCTI live stream for tests: a raw HTTP/1.1 server on 127.0.0.1 (ephemeral port, one
// thread per connection) serving GET /stream/<id> as text/event-stream the way OpenCTI does:
// a `connected` event without id, then `create`/`update`/`delete` events with ids
// `<ms>-<seq>` and one line of JSON data, and `heartbeat` events carrying the last id while
// nothing else happens. It starts after the id in Last-Event-ID (or the `from` header, or
// `?from=`), checks the Bearer token (401), answers injected statuses (503, 410, ...), cuts
// connections part-way through an event, and can go silent. Raw sockets give byte control
// over where a connection ends. No gtest inside. Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace webhook::testing {

struct FakeStreamEvent {
  std::string id;  // "<ms>-<seq>"
  std::string type;
  std::string data;  // one line of JSON
};

struct FakeStreamOptions {
  std::string token = "fake-opencti-token-5f1c";
  std::string stream_id = "live-webhook";
  std::chrono::milliseconds heartbeat{200};  // OpenCTI's default is 5 s
  // Each connection is cut, part-way through an event, after a random number of events in
  // [1, cut_after_max] (0: never), from `seed`.
  int cut_after_max = 0;
  uint32_t seed = 1;
  // Line ends: "\n" as OpenCTI, or "\r\n" (both are the specification's).
  std::string line_end = "\n";
};

struct FakeStreamRequest {
  std::string target;                          // path and query
  std::map<std::string, std::string> headers;  // names lower-cased
  int status = 0;
  std::string started_after;  // the id the answer started after ("" = from the start)
};

class FakeStream {
 public:
  explicit FakeStream(FakeStreamOptions options = {});
  ~FakeStream();
  FakeStream(const FakeStream&) = delete;
  FakeStream& operator=(const FakeStream&) = delete;

  int port() const { return port_; }
  std::string url() const;  // http://127.0.0.1:PORT, what OPENCTI_URL holds
  const FakeStreamOptions& options() const { return options_; }

  // Appends `n` events (create, update, delete in turn) with ids as Redis makes them: the
  // milliseconds of `first_ms` on, several events sharing one millisecond (seq 0, 1, 2).
  void append(int n);
  void append(FakeStreamEvent event);
  std::vector<FakeStreamEvent> events() const;

  // The next `times` connections are answered `status` with a short text body.
  void fail_next(int status, int times = 1);
  // While true, open connections send nothing at all (no heartbeat either).
  void set_silent(bool silent);
  void set_cut_after_max(int n);
  // Closes every open connection now (between events).
  void drop_connections();

  std::vector<FakeStreamRequest> requests() const;
  std::size_t connections() const;  // connections answered so far

  // The data of event `n` (0-based) as append() writes it.
  static std::string event_data(int n, const std::string& type);

 private:
  void accept_loop();
  void serve(int fd);
  std::size_t first_after(const std::string& id) const;  // REQUIRES: mutex_ held

  FakeStreamOptions options_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<FakeStreamEvent> events_;
  int64_t next_ms_ = 1'700'000'000'000;
  std::deque<int> failures_;
  bool silent_ = false;
  int64_t drop_generation_ = 0;
  std::mt19937 random_;
  std::vector<FakeStreamRequest> requests_;
  std::vector<std::thread> workers_;
  std::vector<int> open_fds_;
};

}  // namespace webhook::testing
