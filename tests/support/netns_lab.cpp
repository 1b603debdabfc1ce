#include "tests/support/netns_lab.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <stdexcept>

namespace webhook::testing {
namespace {

constexpr const char* kNamespaceDir = "/run/netns";  // where `ip netns add` names them
constexpr const char* kPrefix = "whnet-";
constexpr const char* kSwitch = "sw";  // the bridge's namespace, not a host

// ChildProcess execs a path, not a name looked up in PATH.
std::string ip_binary() {
  for (const char* path : {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"}) {
    if (::access(path, X_OK) == 0) return path;
  }
  throw std::runtime_error("NetnsLab: no `ip` program (Debian iproute2)");
}

std::string joined(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

void run_ip(const std::vector<std::string>& arguments) {
  std::vector<std::string> argv{ip_binary()};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  auto result = run_command(argv);
  if (result.exit_code != 0) {
    throw std::runtime_error("NetnsLab: `ip " + joined(arguments) + "` failed (" +
                             std::to_string(result.exit_code) + "): " + result.err);
  }
}

// The pid in "whnet-<pid>-...", or 0.
pid_t owner_pid(const std::string& name) {
  if (name.rfind(kPrefix, 0) != 0) return 0;
  const std::string rest = name.substr(std::strlen(kPrefix));
  const auto dash = rest.find('-');
  if (dash == std::string::npos || dash == 0) return 0;
  try {
    return static_cast<pid_t>(std::stol(rest.substr(0, dash)));
  } catch (const std::exception&) {
    return 0;
  }
}

// Labs made by this process, so that two in one process never share a name.
std::atomic<int> labs_made{0};

void check_host_name(const std::string& name) {
  if (name.empty() || name.size() > 10 || name == kSwitch) {
    throw std::runtime_error("NetnsLab: bad host name '" + name + "'");
  }
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) {
      throw std::runtime_error("NetnsLab: bad host name '" + name + "'");
    }
  }
}

}  // namespace

int NetnsLab::remove_stale() {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<std::string> stale;
  for (const auto& entry : fs::directory_iterator(kNamespaceDir, ec)) {
    const std::string name = entry.path().filename().string();
    const pid_t pid = owner_pid(name);
    if (pid > 0 && ::kill(pid, 0) != 0 && errno == ESRCH) stale.push_back(name);
  }
  for (const auto& name : stale) {
    // The programs an earlier, killed run started inside its hosts keep the namespace alive.
    auto pids = run_command({ip_binary(), "netns", "pids", name});
    std::stringstream in(pids.out);
    for (pid_t pid; in >> pid;) ::kill(pid, SIGKILL);
    run_command({ip_binary(), "netns", "del", name});
  }
  return static_cast<int>(stale.size());
}

NetnsLab::NetnsLab(std::string subnet)
    : prefix_(std::string(kPrefix) + std::to_string(::getpid()) + "-" +
              std::to_string(++labs_made) + "-"),
      subnet_(std::move(subnet)) {
  if (::geteuid() != 0) throw std::runtime_error("NetnsLab: needs root (ip netns)");
  remove_stale();
  try {
    const std::string sw = prefix_ + kSwitch;
    ip({"netns", "add", sw});
    namespaces_.push_back(sw);
    ip({"-n", sw, "link", "add", "br0", "type", "bridge"});
    ip({"-n", sw, "link", "set", "br0", "up"});
  } catch (...) {
    for (const auto& name : namespaces_) run_command({ip_binary(), "netns", "del", name});
    throw;
  }
}

NetnsLab::~NetnsLab() {
  // Hosts first, the switch last; a namespace a leftover process still holds disappears
  // with that process (its name goes now).
  for (auto it = namespaces_.rbegin(); it != namespaces_.rend(); ++it) {
    try {
      run_command({ip_binary(), "netns", "del", *it});
    } catch (...) {  // never throw from a destructor
    }
  }
}

void NetnsLab::ip(const std::vector<std::string>& arguments) const { run_ip(arguments); }

std::string NetnsLab::add_host(const std::string& name) {
  check_host_name(name);
  if (hosts_.count(name) != 0) throw std::runtime_error("NetnsLab: host " + name + " exists");
  const std::string ns = netns(name);
  const std::string sw = prefix_ + kSwitch;
  const std::string address = subnet_ + "." + std::to_string(hosts_.size() + 2);
  ip({"netns", "add", ns});
  namespaces_.push_back(ns);
  // Made in the switch's namespace with its other end moved straight into the host's: no
  // interface ever exists in the root namespace.
  ip({"-n", sw, "link", "add", "p-" + name, "type", "veth", "peer", "name", "eth0", "netns", ns});
  ip({"-n", sw, "link", "set", "p-" + name, "master", "br0", "up"});
  ip({"-n", ns, "link", "set", "lo", "up"});
  ip({"-n", ns, "addr", "add", address + "/24", "dev", "eth0"});
  ip({"-n", ns, "link", "set", "eth0", "up"});
  hosts_[name] = address;
  return address;
}

const std::string& NetnsLab::address(const std::string& host) const {
  auto it = hosts_.find(host);
  if (it == hosts_.end()) throw std::runtime_error("NetnsLab: no host " + host);
  return it->second;
}

std::string NetnsLab::netns(const std::string& host) const { return prefix_ + host; }

std::vector<std::string> NetnsLab::exec_prefix(const std::string& host) const {
  address(host);  // throws for an unknown host
  return {ip_binary(), "netns", "exec", netns(host)};
}

std::unique_ptr<ChildProcess> NetnsLab::spawn(const std::string& host,
                                              std::vector<std::string> argv,
                                              std::map<std::string, std::string> env,
                                              std::string log_file) const {
  auto full = exec_prefix(host);
  full.insert(full.end(), argv.begin(), argv.end());
  return std::make_unique<ChildProcess>(std::move(full), std::move(env), std::move(log_file));
}

void NetnsLab::sh(const std::string& host, const std::string& command) const {
  auto argv = exec_prefix(host);
  argv.insert(argv.end(), {"sh", "-c", command});
  auto result = run_command(argv);
  if (result.exit_code != 0) {
    throw std::runtime_error("NetnsLab: `" + command + "` in " + host + " failed (" +
                             std::to_string(result.exit_code) + "): " + result.out + result.err);
  }
}

void NetnsLab::cut(const std::string& host) {
  // The host's cable is unplugged from the switch, not from the host: its port stays up, so
  // the host keeps its carrier, address, routes and neighbours, and what it sends vanishes
  // at the switch, as does what the others send it. Nobody sends a reset or a refusal.
  // (Taking the port down instead would drop the host's carrier, and its kernel would then
  // answer "no route to host" at once, which a partition further away never does.)
  address(host);
  ip({"-n", prefix_ + kSwitch, "link", "set", "p-" + host, "nomaster"});
}

void NetnsLab::restore(const std::string& host) {
  address(host);
  ip({"-n", prefix_ + kSwitch, "link", "set", "p-" + host, "master", "br0"});
}

NetnsLab::Enter::Enter(const NetnsLab& lab, const std::string& host) {
  const std::string path = std::string(kNamespaceDir) + "/" + lab.netns(host);
  lab.address(host);
  previous_ = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  const int target = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  const bool ok = previous_ >= 0 && target >= 0 && ::setns(target, CLONE_NEWNET) == 0;
  const int error = errno;
  if (target >= 0) ::close(target);
  if (!ok) {
    if (previous_ >= 0) ::close(previous_);
    throw std::runtime_error("NetnsLab: cannot enter " + path + ": " + std::strerror(error));
  }
}

NetnsLab::Enter::~Enter() {
  ::setns(previous_, CLONE_NEWNET);
  ::close(previous_);
}

}  // namespace webhook::testing
