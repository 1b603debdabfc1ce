// Runs the real webhook-dispatcher binary for process tests: a clean environment with the
// given settings, stderr to a log file, real signals, and waits with deadlines.
// Header-only because tests/dispatcher compiles only *_test.cpp files. Not thread-safe.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace webhook::dispatcher_test {

class DispatcherProcess {
 public:
  DispatcherProcess(const std::map<std::string, std::string>& settings, const std::string& work_dir,
                    const std::string& log_file, std::vector<std::string> args = {}) {
    const std::string binary = WEBHOOK_BINARY_DIR "/dispatcher/webhook-dispatcher";
    std::vector<std::string> env = {"PATH=/usr/bin:/bin", "OPENCTI_JSON_LOGGING=false"};
    for (const auto& [name, value] : settings) env.push_back(name + "=" + value);
    args.insert(args.begin(), binary);
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      std::vector<char*> argv, envp;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      for (auto& e : env) envp.push_back(e.data());
      envp.push_back(nullptr);
      int log = open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      if (log >= 0) {
        dup2(log, 2);
        dup2(log, 1);
      }
      if (chdir(work_dir.c_str()) != 0) _exit(126);
      execve(binary.c_str(), argv.data(), envp.data());
      _exit(127);
    }
  }
  ~DispatcherProcess() {
    if (!status_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  DispatcherProcess(const DispatcherProcess&) = delete;
  DispatcherProcess& operator=(const DispatcherProcess&) = delete;

  void signal(int number) { kill(pid_, number); }

  // The exit code (128 + signal when killed) once the process ended within `timeout`.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!status_) {
      int status = 0;
      pid_t done = waitpid(pid_, &status, WNOHANG);
      if (done == pid_) {
        status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        break;
      }
      if (std::chrono::steady_clock::now() > deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return status_;
  }

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
};

}  // namespace webhook::dispatcher_test
