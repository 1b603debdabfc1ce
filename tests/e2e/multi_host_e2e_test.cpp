// Two application hosts on one PostgreSQL host, each running a real webhook-poller and
// webhook-dispatcher, while records flow (MultiHostSystem: each host a network namespace,
// real processes, real signals, real partitions): SIGKILL of the active poller; the active
// poller's host cut off for longer than the feed's and the jobs' leases; the database
// crash-restarted under both. The standby poller on the other host takes the feed over; the
// one that lost it commits nothing stale and stands by once back. Checked every time against
// the receiver's log and the ground truth: nothing lost, one job per record, and a record
// sent twice only when its request was in flight at a cut or a restart, each such duplicate
// with an interrupted attempt of the disturbed dispatcher in the store. A short feed lease
// (3 s) and job lease (2 s + 5 s) keep them quick; every wait has a deadline.
#include <httplib.h>

#include <functional>
#include <iostream>

#include "tests/e2e/multi_host_system.h"

namespace webhook::e2e {
namespace {

constexpr int64_t kRecords = 2000;
constexpr int kMetricsPort = 9095;  // each host's own: the namespaces share no ports

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

testing::RecordScheduleOptions flowing_records() {
  testing::RecordScheduleOptions schedule;
  schedule.every = 4ms;
  schedule.limit = kRecords;
  return schedule;
}

// Each poller serves /healthz on its host.
const std::map<std::string, std::string> kPollerEnv = {
    {"CONNECTOR_EXPOSE_METRICS", "true"}, {"CONNECTOR_METRICS_PORT", std::to_string(kMetricsPort)}};

// The pid in the default feed's lease holder (host:pid); 0 when nobody holds it.
pid_t holder(const MultiHostSystem& system) {
  auto rows = system.rows("SELECT holder FROM feed_leases WHERE feed = 'default'");
  if (rows.empty() || !rows[0][0]) return 0;
  const std::string& h = *rows[0][0];
  return static_cast<pid_t>(std::stol(h.substr(h.rfind(':') + 1)));
}
int64_t epoch(const MultiHostSystem& system) {
  return system.scalar("SELECT epoch FROM feed_leases WHERE feed = 'default'");
}

// What the poller on `host` says on /healthz, asked from the services host.
std::string healthz(MultiHostSystem& system, const std::string& host) {
  httplib::Client client(system.lab().address(host), kMetricsPort);
  client.set_connection_timeout(2);
  client.set_read_timeout(5);
  auto res = client.Get("/healthz");
  return res && res->status == 200 ? res->body : std::string();
}
bool standing_by(MultiHostSystem& system, const std::string& host) {
  return healthz(system, host).find("standing by") != std::string::npos;
}

// Attempts the dispatcher with `pid` recorded that started at or after `since_ms`.
int64_t attempts_of(const MultiHostSystem& system, pid_t pid, int64_t since_ms = 0) {
  return system.scalar("SELECT count(*) FROM attempts WHERE worker LIKE '" +
                       MultiHostSystem::worker_of(pid) +
                       "' AND started_at >= " + std::to_string(since_ms));
}

// Waits until `condition` holds, making a record at every turn, so that there is work for
// every host even once the schedule is done.
bool with_records_until(MultiHostSystem& system, const std::function<bool()>& condition,
                        std::chrono::milliseconds timeout) {
  return eventually(
      [&] {
        if (condition()) return true;
        system.schedule().make_one();
        return false;
      },
      timeout, 200ms);
}

// Pollers on both hosts, `active` started first and holding the feed, the other standing
// by; a dispatcher on each host; records flowing and both dispatchers delivering. The
// receiver takes a moment over each request, so that requests are in flight whenever
// something fails.
void start_flow(MultiHostSystem& system, const std::string& active, const std::string& standby) {
  system.env()["WEBHOOK_POLLER_LEASE"] = "3";
  system.sink().set_default_script(Script::always(Reply::stalled(20ms)));
  system.start_poller(active, kPollerEnv);
  const pid_t active_pid = system.poller(active).pid();
  ASSERT_TRUE(eventually([&] { return holder(system) == active_pid; }, 60s, 50ms))
      << "the poller on " << active << " never took the feed";
  system.start_poller(standby, kPollerEnv);
  ASSERT_TRUE(eventually([&] { return standing_by(system, standby); }, 60s, 100ms))
      << "the poller on " << standby << " should stand by: " << healthz(system, standby);
  system.start_dispatcher("a");
  system.start_dispatcher("b");
  system.schedule().start();
  const pid_t a = system.dispatcher("a").pid(), b = system.dispatcher("b").pid();
  ASSERT_TRUE(eventually([&] { return attempts_of(system, a) > 0 && attempts_of(system, b) > 0; },
                         60s, 50ms))
      << "both hosts' dispatchers should be delivering";
}

TEST(MultiHost, SigkillOfTheActivePollerTheStandbyOnTheOtherHostTakesOverLosingNothing) {
  MultiHostSystem system(flowing_records());
  ASSERT_NO_FATAL_FAILURE(start_flow(system, "a", "b"));
  ASSERT_TRUE(eventually([&] { return system.schedule().count() >= kRecords / 3; }, 60s));
  const int64_t epoch_before = epoch(system);

  ASSERT_EQ(system.stop("poller", "a", SIGKILL), 128 + SIGKILL);
  const pid_t standby = system.poller("b").pid();
  EXPECT_TRUE(eventually([&] { return holder(system) == standby; }, 60s, 50ms))
      << "the standby on B should take the feed over";
  EXPECT_GT(epoch(system), epoch_before) << "a takeover is a new epoch";
  EXPECT_TRUE(eventually([&] { return healthz(system, "b").find("active") != std::string::npos; },
                         30s, 100ms))
      << healthz(system, "b");

  ASSERT_TRUE(eventually([&] { return system.schedule().count() >= kRecords; }, 60s));
  ASSERT_TRUE(system.wait_all_delivered(90s))
      << "delivered " << system.received_ids().size() << " of " << kRecords;
  // No dispatcher was disturbed: each record reached the receiver exactly once.
  const int duplicates =
      system.expect_nothing_lost_and_duplicates_explained([](pid_t) { return false; });
  EXPECT_EQ(duplicates, 0);
  std::cout << "poller SIGKILL: " << kRecords << " records, taken over by B, " << duplicates
            << " duplicates\n";
}

TEST(MultiHost, CutOffActiveHostLosesItsFeedLeaseAndItsJobsAndOnReturnCommitsNothingStale) {
  MultiHostSystem system(flowing_records());
  ASSERT_NO_FATAL_FAILURE(start_flow(system, "b", "a"));
  const pid_t a = system.dispatcher("a").pid(), b = system.dispatcher("b").pid();
  const pid_t poller_a = system.poller("a").pid(), poller_b = system.poller("b").pid();
  const std::string held_by_b =
      "SELECT seq, id FROM jobs WHERE state = 'running' AND "
      "lease_owner LIKE '" +
      MultiHostSystem::worker_of(b) + "'";

  // Cut B, the active poller's host, while its dispatcher holds jobs.
  std::vector<SqlRow> held;
  for (int tries = 0; held.empty() && tries < 20; ++tries) {
    ASSERT_TRUE(eventually([&] { return !system.rows(held_by_b).empty(); }, 30s, 5ms));
    system.lab().cut("b");
    held = system.rows(held_by_b);
    if (held.empty()) system.lab().restore("b");
  }
  ASSERT_FALSE(held.empty()) << "B never held a job at the moment of a cut";
  const int64_t epoch_at_cut = epoch(system);

  // While B is cut off: A's poller takes the feed, A's dispatcher delivers B's jobs.
  EXPECT_TRUE(eventually([&] { return holder(system) == poller_a; }, 60s, 50ms))
      << "the standby on A should take the feed over from the cut-off B";
  EXPECT_GT(epoch(system), epoch_at_cut);
  EXPECT_TRUE(eventually(
      [&] {
        for (const auto& job : held) {
          if (system.scalar(
                  "SELECT count(*) FROM attempts WHERE job_seq = " + job[0].value_or("0") +
                  " AND http_status BETWEEN 200 AND 299 AND worker LIKE '" +
                  MultiHostSystem::worker_of(a) + "'") == 0) {
            return false;
          }
        }
        return true;
      },
      60s, 100ms))
      << held.size() << " jobs B held at the cut should be delivered from A";

  // The receiver saw them come from A's address.
  std::set<std::string> from_a;
  for (const auto& r : system.sink().requests()) {
    if (r.remote_addr == system.lab().address("a") && r.status >= 200 && r.status <= 299) {
      from_a.insert(r.header("Idempotency-Key"));
    }
  }
  for (const auto& job : held) {
    EXPECT_EQ(from_a.count(job[1].value_or("")), 1u) << job[1].value_or("") << " not from A";
  }

  system.lab().restore("b");
  const int64_t restored_at = now_ms();
  EXPECT_TRUE(with_records_until(
      system, [&] { return attempts_of(system, b, restored_at) > 0; }, 60s))
      << "B's dispatcher should deliver again once its link is back";
  // Back, B's poller knows it lost the feed: it stands by, and A keeps it.
  EXPECT_TRUE(eventually([&] { return standing_by(system, "b"); }, 60s, 100ms))
      << healthz(system, "b");
  EXPECT_EQ(holder(system), poller_a);
  EXPECT_NE(holder(system), poller_b);
  EXPECT_NE(read_text(system.dir().file("poller@b.log")).find("feed lease lost"), std::string::npos)
      << "B's poller should say it lost the lease";

  ASSERT_TRUE(eventually([&] { return system.schedule().count() >= kRecords; }, 60s));
  ASSERT_TRUE(system.wait_all_delivered(90s))
      << "delivered " << system.received_ids().size() << " of " << kRecords;
  // No record twice in the queue: whatever B's poller had in flight at the cut was thrown
  // away, not committed over A's polls.
  const int duplicates =
      system.expect_nothing_lost_and_duplicates_explained([&](pid_t pid) { return pid == b; });
  EXPECT_TRUE(system.poller("b").running());
  EXPECT_TRUE(system.dispatcher("b").running());
  std::cout << "cut of the active host B: feed taken over by A, " << held.size()
            << " of B's jobs delivered from A, " << duplicates
            << " duplicate deliveries (all interrupted)\n";
}

TEST(MultiHost, DatabaseCrashRestartBothHostsReconnectAndDeliveryGoesOn) {
  MultiHostSystem system(flowing_records());
  ASSERT_NO_FATAL_FAILURE(start_flow(system, "a", "b"));
  ASSERT_TRUE(eventually([&] { return system.schedule().count() >= kRecords / 3; }, 60s));

  // As the postgres user inside the db host: pg_ctl restart -m immediate (a crash: no
  // checkpoint, every session cut off, recovery from the WAL).
  system.cluster().restart();
  const int64_t restarted_at = now_ms();

  const pid_t a = system.dispatcher("a").pid(), b = system.dispatcher("b").pid();
  EXPECT_TRUE(with_records_until(
      system,
      [&] {
        return attempts_of(system, a, restarted_at) > 0 && attempts_of(system, b, restarted_at) > 0;
      },
      60s))
      << "both hosts should deliver again after the restart";
  EXPECT_TRUE(eventually(
      [&] {
        return system.scalar("SELECT count(*) FROM polls WHERE status = 'ok' AND started_at >= " +
                             std::to_string(restarted_at)) > 0;
      },
      60s, 100ms))
      << "the active poller should poll again after the restart";
  EXPECT_NE(holder(system), 0) << "a poller should hold the feed after the restart";
  ASSERT_TRUE(eventually([&] { return system.schedule().count() >= kRecords; }, 60s));
  ASSERT_TRUE(system.wait_all_delivered(90s))
      << "delivered " << system.received_ids().size() << " of " << kRecords;

  // The restart cut every session: any dispatcher's in-flight outcome may have been lost.
  const int duplicates = system.expect_nothing_lost_and_duplicates_explained(
      [&](pid_t pid) { return pid == a || pid == b; });
  for (const char* host : {"a", "b"}) {
    EXPECT_TRUE(system.dispatcher(host).running()) << "the dispatcher on " << host << " exited";
  }
  for (const char* host : {"a", "b"}) {
    EXPECT_TRUE(system.poller(host).running()) << "the poller on " << host << " exited";
  }
  std::cout << "database restart: " << kRecords << " records, " << duplicates
            << " duplicate deliveries (all interrupted)\n";
}

}  // namespace
}  // namespace webhook::e2e
