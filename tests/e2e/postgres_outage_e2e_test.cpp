// The PostgreSQL server failing under both processes while records flow: crash-restarts
// (pg_ctl restart -m immediate) mid-flow, and the server down for a while. The processes
// never exit; they reconnect with backoff, lose nothing, and duplicate only requests that were
// in flight (each explained by an interrupted attempt). While the server is down they log it
// (never the password) and their /healthz says unhealthy; healthy again once it is back.
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/e2e/e2e_system.h"

namespace webhook::e2e {
namespace {

testing::PostgresCluster& cluster() { return testing::PostgresCluster::shared(); }

// A port nobody listens on now (bound to an ephemeral port, then closed).
int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("cannot bind 127.0.0.1");
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

struct Answer {
  int status = 0;  // 0: no answer
  std::string body;
};

Answer healthz(int port) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(2);
  client.set_read_timeout(10);
  auto res = client.Get("/healthz");
  if (!res) return {};
  return {res->status, res->body};
}

// Asks /healthz until it answers `status` or the deadline passes; the last answer either way.
Answer healthz_until(int port, int status) {
  Answer answer;
  eventually(
      [&] {
        answer = healthz(port);
        return answer.status == status;
      },
      60s, 100ms);
  return answer;
}

// The value of an unlabelled sample on /metrics ("" when absent or unanswered).
std::string metric(int port, const std::string& name) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(2);
  client.set_read_timeout(10);
  auto res = client.Get("/metrics");
  if (!res || res->status != 200) return "";
  const std::string line = "\n" + name + " ";
  const auto at = res->body.find(line);
  if (at == std::string::npos) return "";
  const auto start = at + line.size();
  return res->body.substr(start, res->body.find('\n', start) - start);
}

// Asks /metrics until `name` reads `value` or the deadline passes; the last value either way.
std::string metric_until(int port, const std::string& name, const std::string& value) {
  std::string last;
  eventually(
      [&] {
        last = metric(port, name);
        return last == value;
      },
      60s, 100ms);
  return last;
}

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// Every record reached the receiver; one job each; a record that reached it more than once
// has an interrupted attempt for every extra request (a request in flight when the outcome
// could not be recorded), and no request went out without an attempt row.
void expect_nothing_lost_duplicates_explained(E2eSystem& system) {
  const auto made = system.schedule().made();
  auto received = system.received_ids();
  for (const auto& record : made) EXPECT_EQ(received.count(record.id), 1u) << record.id;
  EXPECT_EQ(received.size(), made.size());
  EXPECT_EQ(system.scalar("SELECT count(*) FROM jobs"), static_cast<int64_t>(made.size()));
  ASSERT_TRUE(eventually(
      [&] { return system.jobs_in("delivered") == static_cast<int64_t>(made.size()); }, 60s));

  std::map<std::string, int> requests_by_key, attempts_by_key, interrupted_by_key;
  for (const auto& r : system.sink().requests()) ++requests_by_key[r.header("Idempotency-Key")];
  for (const auto& row : system.rows("SELECT j.id, a.error FROM attempts AS a "
                                     "JOIN jobs AS j ON j.seq = a.job_seq")) {
    const std::string id = row[0].value_or("");
    ++attempts_by_key[id];
    if (row[1].value_or("").rfind("interrupted", 0) == 0) ++interrupted_by_key[id];
  }
  for (const auto& [key, count] : requests_by_key) {
    EXPECT_LE(count, attempts_by_key[key]) << key << ": a request without an attempt row";
    EXPECT_GE(interrupted_by_key[key], count - 1)
        << key << " was delivered " << count << " times without an interrupted attempt";
  }
}

TEST(PostgresOutage, CrashRestartsMidFlowLoseNothingAndDuplicateOnlyRequestsInFlight) {
  testing::RecordScheduleOptions schedule;
  schedule.every = 15ms;
  E2eSystem system({}, schedule, Driver::kPostgres);
  system.env()["WEBHOOK_UNSUCCESSFUL_RETRY_ATTEMPTS"] = "20";
  system.start_poller();
  system.start_dispatcher();
  ASSERT_TRUE(eventually([&] { return system.cursor().has_value(); })) << system.logs();
  const pid_t poller = system.poller().pid(), dispatcher = system.dispatcher().pid();
  system.schedule().start();
  for (int round = 0; round < 3; ++round) {
    auto delivered = system.sink().count();
    ASSERT_TRUE(system.sink().wait_for_count(delivered + 20, 60s)) << system.logs();
    cluster().restart();
  }
  auto delivered = system.sink().count();
  ASSERT_TRUE(system.sink().wait_for_count(delivered + 20, 60s)) << system.logs();
  system.schedule().stop();
  ASSERT_TRUE(system.wait_all_delivered(60s)) << system.logs();

  // The same two processes throughout: they reconnected rather than exited.
  EXPECT_TRUE(system.poller().running());
  EXPECT_TRUE(system.dispatcher().running());
  EXPECT_EQ(system.poller().pid(), poller);
  EXPECT_EQ(system.dispatcher().pid(), dispatcher);
  expect_nothing_lost_duplicates_explained(system);
  // Each noticed the lost connection and said so.
  EXPECT_GE(occurrences(read_text(system.dir().file("dispatcher.log")), "PostgreSQL"), 1u);
  EXPECT_GE(occurrences(read_text(system.dir().file("poller.log")), "PostgreSQL"), 1u);
  EXPECT_EQ(system.stop_poller(), 0);
  EXPECT_EQ(system.stop_dispatcher(), 0);
}

TEST(PostgresOutage, ServerDownKeepsBothRunningLoggingAndUnhealthyThenHealthyAndCatchesUp) {
  testing::RecordScheduleOptions schedule;
  schedule.every = 20ms;
  E2eSystem system({}, schedule, Driver::kPostgres);
  const int poller_port = free_port(), dispatcher_port = free_port();
  system.env()["CONNECTOR_EXPOSE_METRICS"] = "true";
  system.env()["WEBHOOK_METRICS_HOST"] = "127.0.0.1";
  system.env()["CONNECTOR_METRICS_PORT"] = std::to_string(poller_port);
  system.env()["WEBHOOK_DISPATCHER_METRICS_PORT"] = std::to_string(dispatcher_port);
  system.env()["WEBHOOK_UNSUCCESSFUL_RETRY_ATTEMPTS"] = "20";
  system.start_poller();
  system.start_dispatcher();
  ASSERT_TRUE(eventually([&] { return system.cursor().has_value(); })) << system.logs();
  ASSERT_EQ(healthz_until(poller_port, 200).status, 200) << system.logs();
  ASSERT_EQ(healthz_until(dispatcher_port, 200).status, 200) << system.logs();
  system.schedule().start();
  ASSERT_TRUE(system.sink().wait_for_count(10, 30s)) << system.logs();

  cluster().stop();
  const std::string refused = "cannot connect to PostgreSQL";
  // Both log that they cannot reach it, again and again (with backoff), and keep running.
  ASSERT_TRUE(eventually(
      [&] {
        return occurrences(read_text(system.dir().file("poller.log")), refused) >= 2 &&
               occurrences(read_text(system.dir().file("dispatcher.log")), refused) >= 2;
      },
      60s))
      << system.logs();
  Answer poller_down = healthz_until(poller_port, 503);
  Answer dispatcher_down = healthz_until(dispatcher_port, 503);
  EXPECT_EQ(poller_down.status, 503) << poller_down.body;
  EXPECT_EQ(dispatcher_down.status, 503) << dispatcher_down.body;
  for (const auto& body : {poller_down.body, dispatcher_down.body}) {
    // It names the server it cannot reach, with the password masked.
    EXPECT_NE(body.find("127.0.0.1:" + std::to_string(cluster().port())), std::string::npos)
        << body;
    EXPECT_EQ(body.find(kDatabasePassword), std::string::npos) << body;
  }
  EXPECT_TRUE(system.poller().running()) << system.logs();
  EXPECT_TRUE(system.dispatcher().running()) << system.logs();
  // Their metrics say so too: cut off now, no reconnect yet.
  for (int port : {poller_port, dispatcher_port}) {
    EXPECT_EQ(metric_until(port, "webhook_store_up", "0"), "0") << port;
    EXPECT_EQ(metric(port, "webhook_store_reconnects_total"), "0") << port;
  }

  cluster().start();
  EXPECT_EQ(healthz_until(poller_port, 200).status, 200) << system.logs();
  EXPECT_EQ(healthz_until(dispatcher_port, 200).status, 200) << system.logs();
  for (int port : {poller_port, dispatcher_port}) {
    EXPECT_EQ(metric_until(port, "webhook_store_up", "1"), "1") << port;
    EXPECT_NE(metric(port, "webhook_store_reconnects_total"), "0") << port;
  }
  EXPECT_GE(occurrences(read_text(system.dir().file("poller.log")), "connection restored"), 1u);
  EXPECT_GE(occurrences(read_text(system.dir().file("dispatcher.log")), "connection restored"), 1u);
  const auto during = system.sink().count();
  ASSERT_TRUE(system.sink().wait_for_count(during + 10, 60s)) << system.logs();
  system.schedule().stop();
  ASSERT_TRUE(system.wait_all_delivered(60s)) << system.logs();
  expect_nothing_lost_duplicates_explained(system);
  EXPECT_EQ(system.stop_poller(), 0);
  EXPECT_EQ(system.stop_dispatcher(), 0);
}

// A server that is not up yet when both processes start: they keep running, retrying with
// backoff, unhealthy and reporting the store down, then catch up once it comes up.
TEST(PostgresOutage, AServerDownAtStartIsWaitedForNotAReasonToExit) {
  testing::RecordScheduleOptions schedule;
  schedule.every = 20ms;
  E2eSystem system({}, schedule, Driver::kPostgres);
  const int poller_port = free_port(), dispatcher_port = free_port();
  system.env()["CONNECTOR_EXPOSE_METRICS"] = "true";
  system.env()["WEBHOOK_METRICS_HOST"] = "127.0.0.1";
  system.env()["CONNECTOR_METRICS_PORT"] = std::to_string(poller_port);
  system.env()["WEBHOOK_DISPATCHER_METRICS_PORT"] = std::to_string(dispatcher_port);
  cluster().stop();
  system.start_poller();
  system.start_dispatcher();
  system.schedule().start();
  const std::string refused = "cannot connect to PostgreSQL";
  ASSERT_TRUE(eventually(
      [&] {
        return occurrences(read_text(system.dir().file("poller.log")), refused) >= 1 &&
               occurrences(read_text(system.dir().file("dispatcher.log")), refused) >= 1;
      },
      60s))
      << system.logs();
  EXPECT_EQ(healthz_until(poller_port, 503).status, 503) << system.logs();
  EXPECT_EQ(healthz_until(dispatcher_port, 503).status, 503) << system.logs();
  for (int port : {poller_port, dispatcher_port}) {
    EXPECT_EQ(metric_until(port, "webhook_store_up", "0"), "0") << port;
  }
  EXPECT_TRUE(system.poller().running()) << system.logs();
  EXPECT_TRUE(system.dispatcher().running()) << system.logs();
  EXPECT_EQ(read_text(system.dir().file("poller.log")).find(kDatabasePassword), std::string::npos);
  EXPECT_EQ(read_text(system.dir().file("dispatcher.log")).find(kDatabasePassword),
            std::string::npos);

  cluster().start();
  EXPECT_EQ(healthz_until(poller_port, 200).status, 200) << system.logs();
  EXPECT_EQ(healthz_until(dispatcher_port, 200).status, 200) << system.logs();
  for (int port : {poller_port, dispatcher_port}) {
    EXPECT_EQ(metric_until(port, "webhook_store_up", "1"), "1") << port;
  }
  ASSERT_TRUE(system.sink().wait_for_count(10, 60s)) << system.logs();
  system.schedule().stop();
  ASSERT_TRUE(system.wait_all_delivered(60s)) << system.logs();
  expect_nothing_lost_duplicates_explained(system);
  EXPECT_EQ(system.stop_poller(), 0);
  EXPECT_EQ(system.stop_dispatcher(), 0);
}

}  // namespace
}  // namespace webhook::e2e
