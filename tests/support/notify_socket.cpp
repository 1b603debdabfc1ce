#include "tests/support/notify_socket.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <system_error>

namespace webhook::testing {

NotifySocket::NotifySocket(std::string address) : address_(std::move(address)) {
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  if (address_.empty() || address_.size() >= sizeof(sa.sun_path)) {
    throw std::invalid_argument("notify socket address too long or empty: " + address_);
  }
  std::memcpy(sa.sun_path, address_.data(), address_.size());
  socklen_t length = offsetof(sockaddr_un, sun_path) + address_.size();
  if (address_[0] == '@') {
    sa.sun_path[0] = '\0';
  } else {
    length += 1;
  }
  fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "socket(AF_UNIX)");
  if (::bind(fd_, reinterpret_cast<const sockaddr*>(&sa), length) != 0) {
    int err = errno;
    ::close(fd_);
    throw std::system_error(err, std::generic_category(), "bind " + address_);
  }
}

NotifySocket::~NotifySocket() {
  ::close(fd_);
  if (address_[0] == '/') ::unlink(address_.c_str());
}

std::optional<std::string> NotifySocket::receive(std::chrono::milliseconds timeout) {
  pollfd pfd{fd_, POLLIN, 0};
  int ready = ::poll(&pfd, 1, static_cast<int>(timeout.count()));
  if (ready <= 0) return std::nullopt;
  char buffer[4096];
  ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
  if (n < 0) return std::nullopt;
  return std::string(buffer, static_cast<size_t>(n));
}

std::optional<std::string> NotifySocket::wait_for_line(const std::string& line,
                                                       std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    auto message = receive(left);
    if (!message) return std::nullopt;
    std::istringstream lines(*message);
    for (std::string l; std::getline(lines, l);) {
      if (l == line) return message;
    }
  }
}

}  // namespace webhook::testing
