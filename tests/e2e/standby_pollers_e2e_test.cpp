// Two real pollers on one store (README "Standby pollers"), on each driver: one polls, the
// other stands by (healthy, and saying so) and takes the feed over when the first is
// killed, frozen past its lease, or stopped; a frozen one that comes back commits nothing
// stale and stands by; SIGTERM ends either with 0 and frees its lease at once. Records flow
// throughout: each is enqueued and delivered exactly once. A short lease (2 s) keeps the
// tests quick; every wait is on a condition with a deadline.
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "tests/e2e/e2e_system.h"

namespace webhook::e2e {
namespace {

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), length) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  ::close(fd);
  return port;
}

std::string get(int port, const std::string& path, int* status = nullptr) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(2);
  client.set_read_timeout(5);
  auto res = client.Get(path.c_str());
  if (status != nullptr) *status = res ? res->status : 0;
  return res ? res->body : std::string();
}

class StandbyPollers : public ::testing::TestWithParam<Driver> {
 protected:
  StandbyPollers() : system_({}, every(15ms), GetParam()) {
    system_.env()["WEBHOOK_POLLER_LEASE"] = "2";
  }

  static testing::RecordScheduleOptions every(std::chrono::milliseconds interval) {
    testing::RecordScheduleOptions options;
    options.every = interval;
    return options;
  }

  // The second poller, with /metrics and /healthz on a port of its own.
  void start_second() {
    auto env = system_.env();
    metrics_port_ = free_port();
    env["CONNECTOR_EXPOSE_METRICS"] = "true";
    env["CONNECTOR_METRICS_PORT"] = std::to_string(metrics_port_);
    second_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{WEBHOOK_BINARY_DIR "/poller/webhook-poller"}, env,
        system_.dir().file("poller2.log"));
  }

  // The pid in the holder (host:pid) of the default feed's live lease; 0: none.
  pid_t holder() const {
    auto rows = system_.rows("SELECT holder, epoch FROM feed_leases WHERE feed = 'default'");
    if (rows.empty() || !rows[0][0]) return 0;
    const std::string& h = *rows[0][0];
    return static_cast<pid_t>(std::stol(h.substr(h.rfind(':') + 1)));
  }
  int64_t epoch() const {
    return system_.scalar("SELECT epoch FROM feed_leases WHERE feed = 'default'");
  }

  std::string logs() {
    return system_.logs() + "\n--- second poller ---\n" +
           read_text(system_.dir().file("poller2.log"));
  }

  // Both pollers up, the first one active and the records flowing.
  void start_with_first_active() {
    system_.start_poller();
    ASSERT_TRUE(eventually([&] { return holder() == system_.poller().pid(); }, 30s)) << logs();
    start_second();
    system_.start_dispatcher();
    ASSERT_TRUE(eventually([&] { return system_.cursor().has_value(); }, 30s)) << logs();
    system_.schedule().start();
    ASSERT_TRUE(system_.sink().wait_for_count(10, 30s)) << logs();
    EXPECT_EQ(holder(), system_.poller().pid()) << logs();
  }

  // After the takeover: more records delivered by the second one's polls, then all of them
  // exactly once, each enqueued once.
  void expect_every_record_once() {
    const auto delivered = system_.sink().count();
    ASSERT_TRUE(system_.sink().wait_for_count(delivered + 10, 30s)) << logs();
    system_.schedule().stop();
    ASSERT_TRUE(system_.wait_all_delivered(60s)) << logs();
    system_.expect_each_record_exactly_once();
    EXPECT_EQ(system_.scalar("SELECT count(*) FROM jobs"), system_.schedule().count());
    EXPECT_EQ(system_.scalar("SELECT count(*) FROM (SELECT url FROM jobs GROUP BY url HAVING "
                             "count(*) > 1) AS twice"),
              0);
  }

  E2eSystem system_;
  std::unique_ptr<ChildProcess> second_;
  int metrics_port_ = 0;
};

TEST_P(StandbyPollers, TheStandbyIsHealthyAndTakesOverWhenTheActiveOneIsKilled) {
  start_with_first_active();
  // The standby answers healthy and says so; it holds no lease.
  int status = 0;
  std::string health;
  ASSERT_TRUE(eventually(
      [&] {
        health = get(metrics_port_, "/healthz", &status);
        return status == 200 && health.find("standing by") != std::string::npos;
      },
      30s))
      << health << logs();
  EXPECT_NE(get(metrics_port_, "/metrics").find("webhook_feed_lease_held{feed=\"default\"} 0"),
            std::string::npos);
  const int64_t before = epoch();

  ASSERT_TRUE(system_.stop_poller(SIGKILL));
  ASSERT_TRUE(eventually([&] { return holder() == second_->pid(); }, 30s)) << logs();
  EXPECT_GT(epoch(), before);
  expect_every_record_once();
  EXPECT_TRUE(eventually([&] {
    const std::string metrics = get(metrics_port_, "/metrics");
    return metrics.find("webhook_feed_lease_held{feed=\"default\"} 1") != std::string::npos &&
           metrics.find("webhook_feed_lease_takeovers_total{feed=\"default\"} 1") !=
               std::string::npos;
  })) << get(metrics_port_, "/metrics");
  EXPECT_TRUE(eventually([&] {
    return get(metrics_port_, "/healthz").find("active, this poller holds the lease") !=
           std::string::npos;
  })) << get(metrics_port_, "/healthz");
  second_->signal(SIGTERM);
  EXPECT_EQ(second_->wait_for(30s), 0) << logs();
}

TEST_P(StandbyPollers, AFrozenActiveOneLosesTheFeedAndWhenThawedCommitsNothingAndStandsBy) {
  start_with_first_active();
  const pid_t first = system_.poller().pid();
  system_.poller().signal(SIGSTOP);
  ASSERT_TRUE(eventually([&] { return holder() == second_->pid(); }, 30s)) << logs();
  const int64_t successor = epoch();
  const auto delivered = system_.sink().count();
  ASSERT_TRUE(system_.sink().wait_for_count(delivered + 10, 30s)) << logs();
  system_.poller().signal(SIGCONT);
  // It learns it lost the feed (from its own deadline, or the store's refusal) and stands by.
  ASSERT_TRUE(eventually(
      [&] {
        const std::string log = read_text(system_.dir().file("poller.log"));
        return log.find("standing by") != std::string::npos;
      },
      30s))
      << logs();
  expect_every_record_once();
  EXPECT_EQ(holder(), second_->pid()) << logs();
  EXPECT_EQ(epoch(), successor) << "the thawed poller took the feed back";
  EXPECT_TRUE(system_.poller().running());
  EXPECT_EQ(system_.poller().pid(), first);
  EXPECT_EQ(system_.stop_poller(SIGTERM), 0) << logs();
  second_->signal(SIGTERM);
  EXPECT_EQ(second_->wait_for(30s), 0) << logs();
}

TEST_P(StandbyPollers, SigtermEndsEitherWithZeroAndFreesTheLeaseAtOnce) {
  start_with_first_active();
  // The standby first: nothing to release.
  second_->signal(SIGTERM);
  EXPECT_EQ(second_->wait_for(30s), 0) << logs();
  start_second();
  ASSERT_TRUE(eventually(
      [&] { return get(metrics_port_, "/healthz").find("standing by") != std::string::npos; }, 30s))
      << logs();
  const int64_t before = epoch();
  // The active one: it releases the feed, which the standby takes.
  EXPECT_EQ(system_.stop_poller(SIGTERM), 0) << logs();
  EXPECT_NE(read_text(system_.dir().file("poller.log")).find("feed lease released"),
            std::string::npos);
  ASSERT_TRUE(eventually([&] { return holder() == second_->pid(); }, 30s)) << logs();
  EXPECT_GT(epoch(), before);
  expect_every_record_once();
  second_->signal(SIGTERM);
  EXPECT_EQ(second_->wait_for(30s), 0) << logs();
  // `webhookctl status` shows the feed's lease, released.
  auto status = testing::run_command(
      {WEBHOOK_BINARY_DIR "/ctl/webhookctl", "status", "--json", "--database", system_.database()});
  ASSERT_EQ(status.exit_code, 0) << status.out << status.err;
  auto json = nlohmann::json::parse(status.out);
  ASSERT_EQ(json["feed_leases"].size(), 1u) << status.out;
  EXPECT_EQ(json["feed_leases"][0]["feed"], "default");
  EXPECT_EQ(json["feed_leases"][0]["live"], false);
  EXPECT_NE(json["feed_leases"][0]["holder"].get<std::string>().find(
                ":" + std::to_string(second_->pid())),
            std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Drivers, StandbyPollers, ::testing::ValuesIn(testing::kAllDrivers),
                         testing::driver_name);

}  // namespace
}  // namespace webhook::e2e
