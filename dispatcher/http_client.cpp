#include "dispatcher/http_client.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
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
// Events taken from epoll per wait; more ready sockets are found by the next wait.
constexpr int kMaxEvents = 256;

}  // namespace

HttpClient::HttpClient(int host_concurrency)
    : multi_(curl_multi_init()), epoll_(epoll_create1(EPOLL_CLOEXEC)) {
  if (epoll_ < 0) {
    throw std::runtime_error(std::string("cannot create an epoll instance: ") +
                             std::strerror(errno));
  }
  if (!multi_) {
    ::close(epoll_);
    throw std::runtime_error("curl_multi_init failed");
  }
  CURLM* multi = multi_.get();
  check(
      curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, static_cast<long>(host_concurrency)),
      "setting the per-host connection limit");
  check(curl_multi_setopt(multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX),
        "enabling HTTP/2 multiplexing");
  check(curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, &HttpClient::on_socket),
        "installing the socket callback");
  check(curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, static_cast<void*>(this)),
        "installing the socket callback");
  check(curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, &HttpClient::on_timer),
        "installing the timer callback");
  check(curl_multi_setopt(multi, CURLMOPT_TIMERDATA, static_cast<void*>(this)),
        "installing the timer callback");
  ready_.reserve(kMaxEvents);
}

HttpClient::~HttpClient() {
  for (auto& transfer : transfers_) curl_multi_remove_handle(multi_.get(), transfer->handle());
  multi_.reset();  // closes curl's connections, which calls on_socket: epoll must still exist
  ::close(epoll_);
}

int HttpClient::on_socket(CURL* /*easy*/, curl_socket_t socket, int what, void* self,
                          void* /*socket_data*/) {
  auto* client = static_cast<HttpClient*>(self);
  switch (what) {
    case CURL_POLL_IN:
      return client->watch(socket, EPOLLIN) ? 0 : -1;  // -1: curl fails the transfer
    case CURL_POLL_OUT:
      return client->watch(socket, EPOLLOUT) ? 0 : -1;
    case CURL_POLL_INOUT:
      return client->watch(socket, EPOLLIN | EPOLLOUT) ? 0 : -1;
    case CURL_POLL_REMOVE:
      client->unwatch(socket);
      return 0;
    default:
      return 0;
  }
}

int HttpClient::on_timer(CURLM* /*multi*/, long timeout_ms, void* self) {
  auto* client = static_cast<HttpClient*>(self);
  if (timeout_ms < 0) {
    client->timer_.reset();
  } else {
    client->timer_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  }
  return 0;
}

bool HttpClient::watch(int fd, uint32_t events) {
  epoll_event event{};
  event.events = events;
  event.data.fd = fd;
  if (epoll_ctl(epoll_, EPOLL_CTL_MOD, fd, &event) == 0) return true;
  return errno == ENOENT && epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &event) == 0;
}

void HttpClient::unwatch(int fd) {
  // curl may already have closed it, which removed it from the set: nothing to do then.
  epoll_ctl(epoll_, EPOLL_CTL_DEL, fd, nullptr);
}

void HttpClient::watch_extra(std::span<const int> fds) {
  std::vector<int> wanted;
  for (int fd : fds) {
    if (fd >= 0) wanted.push_back(fd);
  }
  if (wanted == extra_fds_) return;
  for (int fd : extra_fds_) unwatch(fd);
  for (int fd : wanted) {
    if (!watch(fd, EPOLLIN)) {
      throw std::runtime_error(std::string("cannot watch a descriptor: ") + std::strerror(errno));
    }
  }
  extra_fds_ = std::move(wanted);
}

void HttpClient::add(std::unique_ptr<Transfer> transfer) {
  // curl sets a timer of 0 to start it: the next perform() does.
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
  // Not reset: the next Transfer keeps the options every request shares (see Transfer).
  idle_handles_.push_back(std::move(handle));
}

void HttpClient::wait(std::chrono::milliseconds timeout, std::span<const int> watch_fds) {
  using std::chrono::milliseconds;
  watch_extra(watch_fds);
  ready_.clear();
  milliseconds limit = std::clamp(timeout, milliseconds(0), milliseconds(24 * 3600 * 1000));
  if (timer_) {
    const auto until_timer =
        std::chrono::ceil<milliseconds>(*timer_ - std::chrono::steady_clock::now());
    limit = std::clamp(until_timer, milliseconds(0), limit);
  }
  epoll_event events[kMaxEvents];
  int count = epoll_wait(epoll_, events, kMaxEvents, static_cast<int>(limit.count()));
  if (count < 0) {
    if (errno == EINTR) return;
    throw std::runtime_error(std::string("waiting for the network failed: ") +
                             std::strerror(errno));
  }
  for (int i = 0; i < count; ++i) {
    if (std::find(extra_fds_.begin(), extra_fds_.end(), events[i].data.fd) != extra_fds_.end()) {
      continue;  // the caller looks at its own descriptors
    }
    ready_.push_back(events[i]);
  }
}

void HttpClient::socket_action(curl_socket_t socket, int mask) {
  int running = 0;
  check(curl_multi_socket_action(multi_.get(), socket, mask, &running), "running requests");
}

std::vector<FinishedTransfer> HttpClient::perform() {
  for (const epoll_event& event : ready_) {
    int mask = 0;
    if (event.events & EPOLLIN) mask |= CURL_CSELECT_IN;
    if (event.events & EPOLLOUT) mask |= CURL_CSELECT_OUT;
    if (event.events & (EPOLLERR | EPOLLHUP)) mask |= CURL_CSELECT_ERR;
    socket_action(event.data.fd, mask);
  }
  ready_.clear();
  if (timer_ && *timer_ <= std::chrono::steady_clock::now()) {
    timer_.reset();  // curl sets the next one from inside the call
    socket_action(CURL_SOCKET_TIMEOUT, 0);
  }

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
