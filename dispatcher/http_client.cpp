#include "dispatcher/http_client.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace webhook::dispatcher {
namespace {

void check(CURLMcode rc, const char* doing) {
  if (rc != CURLM_OK) {
    throw std::runtime_error(std::string("curl multi interface failed while ") + doing + ": " +
                             curl_multi_strerror(rc));
  }
}

// Handles kept for reuse; beyond this many (a burst), finished ones are freed.
constexpr std::size_t kMaxIdleHandles = 1024;

}  // namespace

HttpClient::HttpClient(int host_concurrency) : multi_(curl_multi_init()) {
  if (!multi_) throw std::runtime_error("curl_multi_init failed");
  check(curl_multi_setopt(multi_.get(), CURLMOPT_MAX_HOST_CONNECTIONS,
                          static_cast<long>(host_concurrency)),
        "setting the per-host connection limit");
  check(curl_multi_setopt(multi_.get(), CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX),
        "enabling HTTP/2 multiplexing");
}

HttpClient::~HttpClient() {
  for (auto& transfer : transfers_) curl_multi_remove_handle(multi_.get(), transfer->handle());
}

void HttpClient::add(std::unique_ptr<Transfer> transfer) {
  check(curl_multi_add_handle(multi_.get(), transfer->handle()), "starting a request");
  transfers_.push_back(std::move(transfer));
}

CurlEasy HttpClient::reusable_handle() {
  if (idle_handles_.empty()) return nullptr;
  CurlEasy handle = std::move(idle_handles_.back());
  idle_handles_.pop_back();
  return handle;
}

void HttpClient::recycle(std::unique_ptr<Transfer> transfer) {
  CurlEasy handle = transfer->release_handle();
  transfer.reset();
  if (!handle || idle_handles_.size() >= kMaxIdleHandles) return;
  curl_easy_reset(handle.get());
  idle_handles_.push_back(std::move(handle));
}

void HttpClient::wait(std::chrono::milliseconds timeout, int extra_fd) {
  curl_waitfd extra{};
  extra.fd = extra_fd;
  extra.events = CURL_WAIT_POLLIN;
  const int ms = static_cast<int>(std::clamp<int64_t>(timeout.count(), 0, 24 * 3600 * 1000));
  check(curl_multi_poll(multi_.get(), extra_fd >= 0 ? &extra : nullptr, extra_fd >= 0 ? 1 : 0, ms,
                        nullptr),
        "waiting for the network");
}

std::vector<FinishedTransfer> HttpClient::perform() {
  int running = 0;
  check(curl_multi_perform(multi_.get(), &running), "running requests");
  std::vector<FinishedTransfer> finished;
  int queued = 0;
  while (CURLMsg* message = curl_multi_info_read(multi_.get(), &queued)) {
    if (message->msg != CURLMSG_DONE) continue;
    CURL* easy = message->easy_handle;
    const CURLcode code = message->data.result;  // the transfer's own result
    curl_multi_remove_handle(multi_.get(), easy);
    void* owner = nullptr;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, &owner);  // the Transfer, set at build time
    auto it = std::find_if(transfers_.begin(), transfers_.end(),
                           [owner](const auto& t) { return t.get() == owner; });
    if (it == transfers_.end()) continue;  // not ours; cannot happen
    finished.push_back(FinishedTransfer{std::move(*it), code});
    *it = std::move(transfers_.back());
    transfers_.pop_back();
  }
  return finished;
}

std::vector<std::unique_ptr<Transfer>> HttpClient::abort_all() {
  for (auto& transfer : transfers_) curl_multi_remove_handle(multi_.get(), transfer->handle());
  return std::exchange(transfers_, {});
}

}  // namespace webhook::dispatcher
