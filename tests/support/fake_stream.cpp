#include "tests/support/fake_stream.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <stdexcept>

namespace webhook::testing {
namespace {

bool parse_id(const std::string& id, int64_t& ms, int64_t& seq) {
  auto dash = id.find('-');
  if (dash == std::string::npos) return false;
  auto a = std::from_chars(id.data(), id.data() + dash, ms);
  auto b = std::from_chars(id.data() + dash + 1, id.data() + id.size(), seq);
  return a.ec == std::errc() && b.ec == std::errc() && b.ptr == id.data() + id.size();
}

bool id_after(const std::string& a, const std::string& b) {  // a > b
  int64_t am = 0, as = 0, bm = 0, bs = 0;
  if (!parse_id(a, am, as) || !parse_id(b, bm, bs)) return false;
  return am != bm ? am > bm : as > bs;
}

bool send_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

}  // namespace

std::string FakeStream::event_data(int n, const std::string& type) {
  // One line of JSON shaped as OpenCTI's, with non-ASCII text and escapes so that a body
  // that is not byte-identical shows.
  std::string i = std::to_string(n);
  return R"({"version":"4","type":")" + type +
         R"(","scope":"external","message":"creates a Indicator `ind-)" + i +
         R"(` \u00e9t\u00e9 caf\u00e9 \"q\"","origin":{"user_id":"88ec0c6a-13ce-5e39-b486-354fe4a7084f","referer":"/dashboard"},"data":{"id":"indicator--)" +
         std::string(8 - std::min<std::size_t>(8, i.size()), '0') + i +
         R"(-0000-4000-8000-000000000000","spec_version":"2.1","type":"indicator","name":"ind-)" +
         i + R"( – été","pattern":"[ipv4-addr:value = '10.0.)" + std::to_string(n / 250 % 250) +
         "." + std::to_string(n % 250) +
         R"(']","object_marking_refs":["marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"],"created_by_ref":"identity--a1f1a1f1-0000-4000-8000-00000000000)" +
         std::to_string(n % 3) + R"("}})";
}

FakeStream::FakeStream(FakeStreamOptions options)
    : options_(std::move(options)), random_(options_.seed) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (listen_fd_ < 0) throw std::runtime_error("fake stream: socket() failed");
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 64) != 0) {
    ::close(listen_fd_);
    throw std::runtime_error("fake stream: cannot listen on 127.0.0.1");
  }
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

FakeStream::~FakeStream() {
  stopping_ = true;
  {
    std::lock_guard lock(mutex_);
    for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
  }
  changed_.notify_all();
  if (acceptor_.joinable()) acceptor_.join();
  std::vector<std::thread> workers;
  {
    std::lock_guard lock(mutex_);
    workers.swap(workers_);
  }
  for (auto& t : workers) t.join();
  ::close(listen_fd_);
}

std::string FakeStream::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

void FakeStream::append(int n) {
  std::lock_guard lock(mutex_);
  static const char* kTypes[] = {"create", "update", "delete"};
  for (int k = 0; k < n; ++k) {
    int index = static_cast<int>(events_.size());
    // Three events share a millisecond: ids 1700000000000-0, -1, -2, then the next ms.
    int64_t ms = next_ms_ + index / 3;
    std::string type = kTypes[index % 3];
    events_.push_back(
        {std::to_string(ms) + "-" + std::to_string(index % 3), type, event_data(index, type)});
  }
  changed_.notify_all();
}

void FakeStream::append(FakeStreamEvent event) {
  std::lock_guard lock(mutex_);
  events_.push_back(std::move(event));
  changed_.notify_all();
}

std::vector<FakeStreamEvent> FakeStream::events() const {
  std::lock_guard lock(mutex_);
  return events_;
}

void FakeStream::fail_next(int status, int times) {
  std::lock_guard lock(mutex_);
  for (int i = 0; i < times; ++i) failures_.push_back(status);
}

void FakeStream::set_silent(bool silent) {
  std::lock_guard lock(mutex_);
  silent_ = silent;
  changed_.notify_all();
}

void FakeStream::set_cut_after_max(int n) {
  std::lock_guard lock(mutex_);
  options_.cut_after_max = n;
}

void FakeStream::drop_connections() {
  std::lock_guard lock(mutex_);
  ++drop_generation_;
  changed_.notify_all();
}

std::vector<FakeStreamRequest> FakeStream::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

std::size_t FakeStream::connections() const {
  std::lock_guard lock(mutex_);
  return requests_.size();
}

std::size_t FakeStream::first_after(const std::string& id) const {
  if (id.empty() || id == "0" || id == "0-0" || id.find('-') == std::string::npos) return 0;
  std::size_t i = 0;
  while (i < events_.size() && !id_after(events_[i].id, id)) ++i;
  return i;
}

void FakeStream::accept_loop() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) continue;
    std::lock_guard lock(mutex_);
    open_fds_.push_back(fd);
    workers_.emplace_back([this, fd] { serve(fd); });
  }
}

void FakeStream::serve(int fd) {
  auto finish = [&] {
    std::lock_guard lock(mutex_);
    open_fds_.erase(std::remove(open_fds_.begin(), open_fds_.end(), fd), open_fds_.end());
    ::shutdown(fd, SHUT_RDWR);
    ::close(fd);
  };
  std::string head;
  char buffer[4096];
  while (head.find("\r\n\r\n") == std::string::npos && head.size() < 65536 && !stopping_) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    head.append(buffer, static_cast<std::size_t>(n));
  }
  if (head.find("\r\n\r\n") == std::string::npos) return finish();
  FakeStreamRequest request;
  std::size_t line_end = head.find("\r\n");
  std::string request_line = head.substr(0, line_end);
  auto sp1 = request_line.find(' ');
  auto sp2 = request_line.find(' ', sp1 + 1);
  request.target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
  for (std::size_t pos = line_end + 2; pos < head.size();) {
    std::size_t end = head.find("\r\n", pos);
    if (end == std::string::npos || end == pos) break;
    std::string line = head.substr(pos, end - pos);
    auto colon = line.find(':');
    if (colon != std::string::npos) {
      request.headers[lower(line.substr(0, colon))] = trim(line.substr(colon + 1));
    }
    pos = end + 2;
  }
  std::string path = request.target.substr(0, request.target.find('?'));
  std::string query = request.target.find('?') == std::string::npos
                          ? std::string()
                          : request.target.substr(request.target.find('?') + 1);
  int status = 200;
  int cut_after = 0;
  std::size_t index = 0;
  std::string start;
  {
    std::lock_guard lock(mutex_);
    if (request.headers["authorization"] != "Bearer " + options_.token) {
      status = 401;
    } else if (path != "/stream/" + options_.stream_id) {
      status = 404;
    } else if (!failures_.empty()) {
      status = failures_.front();
      failures_.pop_front();
    }
    if (request.headers.count("last-event-id")) {
      start = request.headers["last-event-id"];
    } else if (request.headers.count("from")) {
      start = request.headers["from"];
    } else if (auto f = query.find("from="); f != std::string::npos) {
      start = query.substr(f + 5, query.find('&', f) - f - 5);
    }
    index = first_after(start);
    request.status = status;
    request.started_after = start;
    if (options_.cut_after_max > 0) {
      cut_after = std::uniform_int_distribution<int>(1, options_.cut_after_max)(random_);
    }
    requests_.push_back(request);
  }
  if (status != 200) {
    std::string body = status == 401 ? "{\"status\":401,\"error\":\"Unauthorized\"}"
                                     : "{\"error\":\"injected " + std::to_string(status) + "\"}";
    send_all(fd, "HTTP/1.1 " + std::to_string(status) +
                     " Error\r\nContent-Type: application/json\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
    return finish();
  }
  const std::string& nl = options_.line_end;
  if (!send_all(fd,
                "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n"
                "Cache-Control: no-cache, no-transform\r\nConnection: close\r\n\r\n") ||
      !send_all(fd, "event: connected" + nl + "data: {\"connectionId\":\"c-" +
                        std::to_string(port_) + "\",\"streamInfo\":{}}" + nl + nl)) {
    return finish();
  }
  std::string last_id = start.empty() ? "0-0" : start;
  int sent = 0;
  std::unique_lock lock(mutex_);
  const int64_t generation = drop_generation_;
  auto next_beat = std::chrono::steady_clock::now() + options_.heartbeat;
  while (!stopping_ && generation == drop_generation_) {
    if (silent_) {
      changed_.wait_for(lock, std::chrono::milliseconds(50));
      next_beat = std::chrono::steady_clock::now() + options_.heartbeat;
      continue;
    }
    if (index < events_.size()) {
      FakeStreamEvent e = events_[index++];
      lock.unlock();
      std::string bytes =
          "id: " + e.id + nl + "event: " + e.type + nl + "data: " + e.data + nl + nl;
      if (cut_after > 0 && sent == cut_after) {
        // Part-way through the event: after its data began, before the blank line.
        send_all(fd, std::string_view(bytes).substr(0, bytes.size() / 2 + 1));
        return finish();
      }
      if (!send_all(fd, bytes)) return finish();
      ++sent;
      last_id = e.id;
      lock.lock();
      continue;
    }
    if (std::chrono::steady_clock::now() >= next_beat) {
      lock.unlock();
      if (!send_all(fd, "id: " + last_id + nl + "event: heartbeat" + nl +
                            "data: 2026-12-01T10:00:00.000Z" + nl + nl)) {
        return finish();
      }
      next_beat = std::chrono::steady_clock::now() + options_.heartbeat;
      lock.lock();
      continue;
    }
    changed_.wait_until(lock, next_beat);
  }
  lock.unlock();
  finish();
}

}  // namespace webhook::testing
