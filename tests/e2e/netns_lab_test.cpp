// The multi-host harness itself: hosts reach each other on the lab's addresses and nothing
// else; a cut host's TCP peer hears nothing (no reset, no refusal) until the link comes back;
// the root namespace's network is never touched; the namespaces go with the lab, and those
// of a run that was killed go at the next start.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>

#include "tests/support/child_process.h"
#include "tests/support/netns_lab.h"

namespace webhook::testing {
namespace {

bool namespace_exists(const std::string& name) {
  return std::filesystem::exists("/run/netns/" + name);
}

std::string root_links() { return run_command({"ip", "-o", "link", "show"}).out; }

// A listening socket on `address` in the calling thread's namespace; its port.
int listen_on(const std::string& address, int& port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  ::inet_pton(AF_INET, address.c_str(), &a.sin_addr);
  socklen_t length = sizeof a;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), length) != 0 || ::listen(fd, 8) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &length) != 0) {
    ADD_FAILURE() << "cannot listen on " << address << ": " << std::strerror(errno);
    return -1;
  }
  port = ntohs(a.sin_port);
  return fd;
}

// Connects from the calling thread's namespace; the socket, or -errno.
int connect_to(const std::string& address, int port, int timeout_ms) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, address.c_str(), &a.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 && errno != EINPROGRESS) {
    const int error = errno;
    ::close(fd);
    return -error;
  }
  pollfd p{fd, POLLOUT, 0};
  if (::poll(&p, 1, timeout_ms) != 1) {
    ::close(fd);
    return -ETIMEDOUT;
  }
  int error = 0;
  socklen_t length = sizeof error;
  ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
  if (error != 0) {
    ::close(fd);
    return -error;
  }
  return fd;
}

// Whether `fd` becomes readable within `timeout_ms` (data, end of stream or an error).
bool readable(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, timeout_ms) == 1;
}

TEST(NetnsLab, HostsReachEachOtherOnTheirOwnAddressesAndTheRootNamespaceIsUntouched) {
  const std::string before = root_links();
  std::string a_namespace;
  {
    NetnsLab lab("10.78.0");
    EXPECT_EQ(lab.add_host("a"), "10.78.0.2");
    EXPECT_EQ(lab.add_host("b"), "10.78.0.3");
    a_namespace = lab.netns("a");
    EXPECT_TRUE(namespace_exists(a_namespace));
    EXPECT_NE(a_namespace.find(std::to_string(::getpid())), std::string::npos);

    // A process run in a host is the program itself, and sees only loopback and eth0.
    auto child = lab.spawn("a", {"/bin/sh", "-c", "echo $$; ip -o addr show"}, {}, "/dev/null");
    auto shown = run_command({"ip", "netns", "exec", lab.netns("a"), "ip", "-o", "addr", "show"});
    EXPECT_NE(shown.out.find("10.78.0.2/24"), std::string::npos) << shown.out;
    EXPECT_EQ(shown.out.find("10.78.0.3"), std::string::npos) << shown.out;
    EXPECT_EQ(child->wait_for(std::chrono::seconds(10)), 0);

    {
      int port = 0;
      NetnsLab::Enter in_b(lab, "b");
      int listener = listen_on("10.78.0.3", port);
      ASSERT_GE(listener, 0);
      int from_a = -1;
      std::thread([&] {
        NetnsLab::Enter in_a(lab, "a");
        from_a = connect_to("10.78.0.3", port, 10000);
      }).join();
      EXPECT_GE(from_a, 0) << std::strerror(-from_a);
      if (from_a >= 0) ::close(from_a);
      ::close(listener);
    }
    EXPECT_EQ(root_links(), before) << "an interface appeared in the root namespace";
  }
  EXPECT_FALSE(namespace_exists(a_namespace)) << "the lab left its namespace behind";
  EXPECT_EQ(root_links(), before);
}

TEST(NetnsLab, ACutHostsPeerHearsNothingNeitherResetNorRefusalUntilTheLinkIsBack) {
  NetnsLab lab("10.78.1");
  lab.add_host("a");
  const std::string b = lab.add_host("b");
  NetnsLab::Enter in_b(lab, "b");
  int port = 0;
  const int listener = listen_on(b, port);
  ASSERT_GE(listener, 0);
  int client = -1;
  std::thread([&] {
    NetnsLab::Enter in_a(lab, "a");
    client = connect_to(b, port, 10000);
  }).join();
  ASSERT_GE(client, 0) << std::strerror(-client);
  const int server = ::accept(listener, nullptr, nullptr);
  ASSERT_GE(server, 0);

  lab.cut("a");
  // What a sends vanishes, and so does what b sends back: no reset reaches either side.
  ASSERT_EQ(::send(client, "ping", 4, MSG_NOSIGNAL), 4);
  EXPECT_FALSE(readable(server, 1500)) << "a's bytes crossed a cut link";
  ASSERT_EQ(::send(server, "pong", 4, MSG_NOSIGNAL), 4);
  EXPECT_FALSE(readable(client, 1500)) << "b's bytes (or a reset) reached a cut host";
  // A new connection from a cut host is not refused either: it gets no answer.
  int second = 0;
  std::thread([&] {
    NetnsLab::Enter in_a(lab, "a");
    second = connect_to(b, port, 1500);
  }).join();
  EXPECT_EQ(second, -ETIMEDOUT) << std::strerror(-second);

  lab.restore("a");
  // TCP retransmits what was held back: the same connection goes on.
  EXPECT_TRUE(readable(server, 60000)) << "a's bytes never arrived after the link came back";
  char buffer[8] = {};
  EXPECT_EQ(::recv(server, buffer, sizeof buffer, 0), 4);
  EXPECT_EQ(std::string(buffer, 4), "ping");
  EXPECT_TRUE(readable(client, 60000));
  EXPECT_EQ(::recv(client, buffer, sizeof buffer, 0), 4);
  EXPECT_EQ(std::string(buffer, 4), "pong");
  ::close(client);
  ::close(server);
  ::close(listener);
}

TEST(NetnsLab, NamespacesOfAKilledRunAreRemovedAtTheNextStart) {
  // A run whose pid is dead: a child that has exited and been reaped.
  const pid_t dead = ::fork();
  if (dead == 0) ::_exit(0);
  ASSERT_GT(dead, 0);
  ::waitpid(dead, nullptr, 0);
  const std::string stale = "whnet-" + std::to_string(dead) + "-1-a";
  ASSERT_EQ(run_command({"ip", "netns", "add", stale}).exit_code, 0);
  // The earlier run's program still runs inside it.
  auto leftover = std::make_unique<ChildProcess>(
      std::vector<std::string>{"/usr/sbin/ip", "netns", "exec", stale, "sleep", "600"},
      std::map<std::string, std::string>{}, "/dev/null");
  ASSERT_TRUE(eventually(
      [&] {
        return !run_command({"ip", "netns", "pids", stale}).out.empty();
      },
      std::chrono::seconds(10)));
  // Ours, alive: kept.
  const std::string alive = "whnet-" + std::to_string(::getpid()) + "-999-a";
  ASSERT_EQ(run_command({"ip", "netns", "add", alive}).exit_code, 0);

  NetnsLab lab("10.78.2");
  EXPECT_FALSE(namespace_exists(stale));
  EXPECT_EQ(leftover->wait_for(std::chrono::seconds(10)), 128 + SIGKILL);
  EXPECT_TRUE(namespace_exists(alive));
  run_command({"ip", "netns", "del", alive});
}

}  // namespace
}  // namespace webhook::testing
