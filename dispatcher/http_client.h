// The one curl multi handle every request goes through, so connections are reused
// (keep-alive, HTTP/2 multiplexing) and limited per host. It owns the Transfers in flight
// and hands each back with its CURLcode when done, following curl's 10-at-a-time example.
// One thread.
#pragma once

#include <chrono>
#include <memory>
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
  // REQUIRES: a CurlGlobal exists.
  explicit HttpClient(int host_concurrency);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  void add(std::unique_ptr<Transfer> transfer);

  // An easy handle for the next Transfer: a reset one from earlier transfers when there is
  // one (fewer allocations per request), else null (the Transfer makes one).
  CurlEasy reusable_handle();
  // Takes a finished transfer's handle back for reuse.
  void recycle(std::unique_ptr<Transfer> transfer);
  std::size_t in_flight() const { return transfers_.size(); }

  // Waits until a transfer has something to do, `extra_fd` (if >= 0) is readable, or
  // `timeout` passed, whichever is first.
  void wait(std::chrono::milliseconds timeout, int extra_fd);

  // Drives every transfer and returns the ones that finished.
  std::vector<FinishedTransfer> perform();

  // Stops every transfer in flight and returns them (shutdown).
  std::vector<std::unique_ptr<Transfer>> abort_all();

 private:
  CurlMulti multi_;
  std::vector<std::unique_ptr<Transfer>> transfers_;  // in flight; small, scanned linearly
  std::vector<CurlEasy> idle_handles_;
};

}  // namespace webhook::dispatcher
