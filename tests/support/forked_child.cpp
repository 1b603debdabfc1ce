#include "tests/support/forked_child.h"

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <exception>
#include <stdexcept>

namespace webhook::testing {

pid_t fork_child(const std::function<int()>& body) {
  std::fflush(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid > 0) return pid;
  int code = 1;
  try {
    code = body();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "child %d: %s\n", static_cast<int>(::getpid()), e.what());
  }
  std::fflush(nullptr);
  ::_exit(code);
}

int wait_child(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

SignalPipe::SignalPipe() {
  if (::pipe(fds_) != 0) throw std::runtime_error("pipe failed");
}

SignalPipe::~SignalPipe() {
  ::close(fds_[0]);
  ::close(fds_[1]);
}

void SignalPipe::notify() const {
  char byte = 1;
  if (::write(fds_[1], &byte, 1) != 1) std::perror("SignalPipe::notify");
}

bool SignalPipe::wait(std::chrono::milliseconds timeout) const {
  pollfd p{fds_[0], POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return false;
  char byte;
  return ::read(fds_[0], &byte, 1) == 1;
}

}  // namespace webhook::testing
