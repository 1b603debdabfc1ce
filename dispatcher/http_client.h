// The one curl multi handle every request goes through, so connections are reused
// (keep-alive, HTTP/2 multiplexing) and limited per host. It owns the Transfers in flight
// and hands each back with its CURLcode when done. It drives curl with the socket interface
// (curl_multi_socket_action over epoll), so a wake-up costs work only for the connections
// that have something to do, not for every request in flight. One thread.
#pragma once

#include <sys/epoll.h>

#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "dispatcher/curl_handles.h"
#include "dispatcher/transfer.h"

namespace webhook::dispatcher {

struct FinishedTransfer {
  std::unique_ptr<Transfer> transfer;
  CURLcode code = CURLE_OK;
};

class HttpClient {
 public:
  // REQUIRES: a CurlGlobal exists. Throws std::runtime_error when curl or epoll cannot start.
  explicit HttpClient(int host_concurrency);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  void add(std::unique_ptr<Transfer> transfer);

  // An easy handle for the next Transfer: one an earlier Transfer used, options kept, when
  // there is one (fewer allocations and options per request), else null (the Transfer makes
  // one). Every Transfer of one client must be built with the same settings.
  CurlEasy reusable_handle();
  // Takes a finished transfer's handle back for reuse.
  void recycle(std::unique_ptr<Transfer> transfer);
  std::size_t in_flight() const { return transfers_.size(); }

  // Waits until a connection has something to do, curl's own timer is due, one of
  // `watch_fds` (negative ones are ignored) is readable, or `timeout` passed.
  void wait(std::chrono::milliseconds timeout, std::span<const int> watch_fds);

  // Drives the transfers that have something to do and returns the ones that finished.
  std::vector<FinishedTransfer> perform();

  // Stops every transfer in flight and returns them (shutdown).
  std::vector<std::unique_ptr<Transfer>> abort_all();

 private:
  using SteadyTime = std::chrono::steady_clock::time_point;

  static int on_socket(CURL* easy, curl_socket_t socket, int what, void* self, void* socket_data);
  static int on_timer(CURLM* multi, long timeout_ms, void* self);
  bool watch(int fd, uint32_t events);  // false (errno set) when epoll refuses
  void unwatch(int fd);
  void watch_extra(std::span<const int> fds);
  void socket_action(curl_socket_t socket, int mask);

  CurlMulti multi_;
  int epoll_ = -1;
  std::optional<SteadyTime> timer_;                   // when curl wants socket_action(TIMEOUT)
  std::vector<epoll_event> ready_;                    // sockets the last wait() found ready
  std::vector<int> extra_fds_;                        // watch_fds currently in the epoll set
  std::vector<std::unique_ptr<Transfer>> transfers_;  // in flight; small, scanned linearly
  std::vector<CurlEasy> idle_handles_;
};

}  // namespace webhook::dispatcher
