// Two application hosts on one PostgreSQL host, while records flow (MultiHostSystem: each
// host a network namespace, real processes, real signals, a real partition): the database
// crash-restarts under both, and host B is cut off for longer than a job's lease. Checked
// every time against the receiver's log and the ground truth: nothing lost, one job per
// record, and a record sent twice only when its request was in flight at the disturbance,
// each such duplicate with an interrupted attempt of the disturbed dispatcher in the store.
#include <functional>
#include <iostream>

#include "tests/e2e/multi_host_system.h"

namespace webhook::e2e {
namespace {

constexpr int64_t kRecords = 2000;

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

// The system with a poller on A and a dispatcher on each host, records flowing, both
// dispatchers delivering. The receiver takes a moment over each request, so that requests
// are in flight whenever something fails.
void start_flow(MultiHostSystem& system) {
  system.sink().set_default_script(Script::always(Reply::stalled(20ms)));
  system.start_poller("a");
  system.start_dispatcher("a");
  system.start_dispatcher("b");
  ASSERT_TRUE(eventually([&] { return system.scalar("SELECT count(*) FROM cursors") > 0; }, 60s))
      << "the poller on A never polled";
  system.schedule().start();
  const pid_t a = system.dispatcher("a").pid(), b = system.dispatcher("b").pid();
  ASSERT_TRUE(eventually([&] { return attempts_of(system, a) > 0 && attempts_of(system, b) > 0; },
                         60s, 50ms))
      << "both hosts' dispatchers should be delivering";
}

TEST(MultiHost, DatabaseCrashRestartBothHostsReconnectAndDeliveryGoesOn) {
  MultiHostSystem system(flowing_records());
  ASSERT_NO_FATAL_FAILURE(start_flow(system));
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
      << "the poller should poll again after the restart";
  ASSERT_TRUE(eventually([&] { return system.schedule().count() >= kRecords; }, 60s));
  ASSERT_TRUE(system.wait_all_delivered(90s))
      << "delivered " << system.received_ids().size() << " of " << kRecords;

  // The restart cut every session: any dispatcher's in-flight outcome may have been lost.
  const int duplicates = system.expect_nothing_lost_and_duplicates_explained(
      [&](pid_t pid) { return pid == a || pid == b; });
  for (const char* host : {"a", "b"}) {
    EXPECT_TRUE(system.dispatcher(host).running()) << "the dispatcher on " << host << " exited";
  }
  EXPECT_TRUE(system.poller("a").running()) << "the poller exited";
  std::cout << "database restart: " << kRecords << " records, " << duplicates
            << " duplicate deliveries (all interrupted)\n";
}

TEST(MultiHost, CutOffHostsJobsComeBackWhenTheirLeasesExpireAndAreDeliveredFromTheOtherHost) {
  MultiHostSystem system(flowing_records());
  ASSERT_NO_FATAL_FAILURE(start_flow(system));
  const pid_t a = system.dispatcher("a").pid(), b = system.dispatcher("b").pid();
  const std::string held_by_b =
      "SELECT seq, id FROM jobs WHERE state = 'running' AND "
      "lease_owner LIKE '" +
      MultiHostSystem::worker_of(b) + "'";

  // Cut B while it holds jobs (what it holds is read once the cut is made: nothing of B's
  // reaches the server after that).
  std::vector<SqlRow> held;
  for (int tries = 0; held.empty() && tries < 20; ++tries) {
    ASSERT_TRUE(eventually([&] { return !system.rows(held_by_b).empty(); }, 30s, 5ms));
    system.lab().cut("b");
    held = system.rows(held_by_b);
    if (held.empty()) system.lab().restore("b");
  }
  ASSERT_FALSE(held.empty()) << "B never held a job at the moment of a cut";

  // While B is still cut off, every job it held is delivered by A once its lease expired.
  auto delivered_by_a = [&](const SqlRow& job) {
    return system.scalar("SELECT count(*) FROM attempts WHERE job_seq = " + job[0].value_or("0") +
                         " AND http_status BETWEEN 200 AND 299 AND worker LIKE '" +
                         MultiHostSystem::worker_of(a) + "'") > 0;
  };
  EXPECT_TRUE(eventually(
      [&] {
        for (const auto& job : held) {
          if (!delivered_by_a(job)) return false;
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
  EXPECT_TRUE(system.dispatcher("b").running());

  system.lab().restore("b");
  const int64_t restored_at = now_ms();
  EXPECT_TRUE(with_records_until(
      system, [&] { return attempts_of(system, b, restored_at) > 0; }, 60s))
      << "B's dispatcher should deliver again once its link is back";
  ASSERT_TRUE(eventually([&] { return system.schedule().count() >= kRecords; }, 60s));
  ASSERT_TRUE(system.wait_all_delivered(90s))
      << "delivered " << system.received_ids().size() << " of " << kRecords;
  const int duplicates =
      system.expect_nothing_lost_and_duplicates_explained([&](pid_t pid) { return pid == b; });
  EXPECT_TRUE(system.dispatcher("b").running());
  std::cout << "cut of B: " << held.size() << " jobs held by B at the cut, delivered from A; "
            << duplicates << " duplicate deliveries (all interrupted)\n";
}

}  // namespace
}  // namespace webhook::e2e
