#include "common/sd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <charconv>
#include <cstddef>
#include <cstring>

namespace webhook {
namespace {

// Closes the descriptor on every path out of notify().
class SocketFd {
 public:
  explicit SocketFd(int fd) : fd_(fd) {}
  ~SocketFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  SocketFd(const SocketFd&) = delete;
  SocketFd& operator=(const SocketFd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

std::optional<long long> parse_positive(std::string_view text) {
  long long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value <= 0) return std::nullopt;
  return value;
}

}  // namespace

SdNotifier SdNotifier::from_environment(const Environment& env) {
  std::string socket;
  if (auto it = env.find("NOTIFY_SOCKET"); it != env.end()) socket = it->second;

  std::optional<std::chrono::microseconds> watchdog;
  if (auto it = env.find("WATCHDOG_USEC"); it != env.end()) {
    if (auto usec = parse_positive(it->second)) watchdog = std::chrono::microseconds(*usec);
  }
  if (auto it = env.find("WATCHDOG_PID"); it != env.end() && watchdog) {
    // Set by the manager so that a child that inherited the environment does not ping on
    // its parent's behalf.
    auto pid = parse_positive(it->second);
    if (!pid || *pid != static_cast<long long>(::getpid())) watchdog.reset();
  }
  return SdNotifier(std::move(socket), watchdog);
}

SdNotifier::SdNotifier(std::string socket,
                       std::optional<std::chrono::microseconds> watchdog_timeout)
    : socket_(std::move(socket)), watchdog_timeout_(watchdog_timeout) {}

bool SdNotifier::notify(std::string_view state) const {
  if (socket_.empty() || state.empty()) return false;
  if (socket_[0] != '/' && socket_[0] != '@') return false;  // e.g. vsock:, not supported

  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (socket_.size() >= sizeof(address.sun_path)) return false;
  std::memcpy(address.sun_path, socket_.data(), socket_.size());
  socklen_t length = offsetof(sockaddr_un, sun_path) + socket_.size();
  if (socket_[0] == '@') {
    address.sun_path[0] = '\0';  // abstract namespace: no terminating NUL counted
  } else {
    length += 1;
  }

  SocketFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return false;
  ssize_t sent = ::sendto(fd.get(), state.data(), state.size(), MSG_NOSIGNAL,
                          reinterpret_cast<const sockaddr*>(&address), length);
  return sent == static_cast<ssize_t>(state.size());
}

bool SdNotifier::ready(std::string_view status) const {
  if (status.empty()) return notify("READY=1");
  std::string text(status);
  for (char& c : text) {
    if (c == '\n') c = ' ';
  }
  return notify("READY=1\nSTATUS=" + text);
}

bool SdNotifier::watchdog() const { return notify("WATCHDOG=1"); }

bool SdNotifier::stopping() const { return notify("STOPPING=1"); }

bool SdNotifier::status(std::string_view text) const {
  std::string line(text);
  for (char& c : line) {
    if (c == '\n') c = ' ';
  }
  return notify("STATUS=" + line);
}

std::optional<std::chrono::milliseconds> SdNotifier::watchdog_interval() const {
  if (!watchdog_timeout_) return std::nullopt;
  auto half = std::chrono::duration_cast<std::chrono::milliseconds>(*watchdog_timeout_ / 2);
  return half.count() > 0 ? half : std::chrono::milliseconds(1);
}

}  // namespace webhook
