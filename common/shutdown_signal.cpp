#include "common/shutdown_signal.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <stdexcept>

namespace webhook {
namespace {

std::atomic<int> g_count{0};
int g_pipe[2] = {-1, -1};

extern "C" void on_signal(int) {
  g_count.fetch_add(1);
  char byte = 1;
  [[maybe_unused]] auto n = write(g_pipe[1], &byte, 1);
}

}  // namespace

ShutdownSignal::ShutdownSignal() {
  if (g_pipe[0] < 0) {
    if (pipe2(g_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
      throw std::runtime_error("cannot create the shutdown pipe");
    }
  }
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}

ShutdownSignal::~ShutdownSignal() {
  std::signal(SIGTERM, SIG_DFL);
  std::signal(SIGINT, SIG_DFL);
}

int ShutdownSignal::count() const { return g_count.load(); }

int ShutdownSignal::fd() const { return g_pipe[0]; }

bool ShutdownSignal::wait_for(std::chrono::milliseconds timeout) const {
  if (requested()) return true;
  struct pollfd pfd {
    g_pipe[0], POLLIN, 0
  };
  int ms = static_cast<int>(std::max<std::chrono::milliseconds::rep>(0, timeout.count()));
  poll(&pfd, 1, ms);
  return requested();
}

void ShutdownSignal::request() { on_signal(SIGTERM); }

}  // namespace webhook
