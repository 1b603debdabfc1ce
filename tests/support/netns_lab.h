// Hosts on this machine for multi-host tests: each host is a network namespace of the test's
// own (named "whnet-<pid>-<lab>-<host>"), plugged by a veth pair into one bridge that lives
// in a namespace of its own, so nothing touches the root namespace's network. Hosts get
// addresses <subnet>.N/24 that exist only inside these namespaces; a process run in a host
// (`ip netns exec`, which execs the program: the pid is the program's) sees only its loopback
// and that address. cut() takes a host off the bridge the way a real partition does (its
// cable leaves the switch, the host's link stays up: both ends hear silence, never a reset
// or a refusal); restore() plugs it back. The destructor deletes every namespace the lab made, and
// the constructor first deletes those of earlier runs whose pid is dead (ending the processes left
// inside them), so a killed run leaves nothing behind for long. Requires root and a working `ip
// netns`: the constructor throws otherwise (a test failure, never a skip). Not thread-safe; one
// owner. Enter switches the calling thread into a host; threads it starts inherit it.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/child_process.h"

namespace webhook::testing {

class NetnsLab {
 public:
  // `subnet`: the first three octets of the hosts' addresses (hosts are .2, .3, ...).
  explicit NetnsLab(std::string subnet = "10.77.0");
  ~NetnsLab();
  NetnsLab(const NetnsLab&) = delete;
  NetnsLab& operator=(const NetnsLab&) = delete;

  // Adds a host named `name` (letters and digits, at most 10) on the bridge; its address.
  std::string add_host(const std::string& name);
  const std::string& address(const std::string& host) const;
  const std::string& subnet() const { return subnet_; }
  // The namespace's name, as `ip netns` knows it.
  std::string netns(const std::string& host) const;

  // `argv` run inside `host`, as a child process (see ChildProcess).
  std::unique_ptr<ChildProcess> spawn(const std::string& host, std::vector<std::string> argv,
                                      std::map<std::string, std::string> env,
                                      std::string log_file) const;
  // The argv prefix that runs a program inside `host` ("ip netns exec NS").
  std::vector<std::string> exec_prefix(const std::string& host) const;
  // `command` run by the shell inside `host`, to completion; throws if it fails.
  void sh(const std::string& host, const std::string& command) const;

  // Takes `host` off the bridge (its packets are dropped silently, both ways) and back.
  void cut(const std::string& host);
  void restore(const std::string& host);

  // While alive, the calling thread is inside `host`'s network namespace: sockets it makes
  // (and threads it starts) are that host's. Back where it was on destruction.
  class Enter {
   public:
    Enter(const NetnsLab& lab, const std::string& host);
    ~Enter();
    Enter(const Enter&) = delete;
    Enter& operator=(const Enter&) = delete;

   private:
    int previous_ = -1;
  };

  // Deletes the namespaces of earlier runs whose pid is no longer alive; how many.
  static int remove_stale();

 private:
  void ip(const std::vector<std::string>& arguments) const;

  std::string prefix_;  // whnet-<pid>-<n>-
  std::string subnet_;
  std::vector<std::string> namespaces_;       // made so far, the bridge's first
  std::map<std::string, std::string> hosts_;  // name -> address
};

}  // namespace webhook::testing
