// Chaos: both processes SIGKILLed at random moments, at least 20 times each, while 5,000
// records flow. Nothing is lost; a record reaches the receiver twice only when its request
// was in flight when a dispatcher died (an `interrupted` attempt of a killed dispatcher
// shows it); the cursor never moves back and never passes a record that is not on disk.
// Once per store driver.
#include <atomic>
#include <iostream>
#include <random>
#include <thread>

#include "tests/e2e/e2e_system.h"

namespace webhook::e2e {
namespace {

constexpr int64_t kRecords = 5000;
constexpr int kKillsEach = 20;
constexpr int64_t kOverlapMs = 2000;

// Samples the cursor while the run goes on: it must never move back, and every record older
// than cursor - overlap must already have its job on disk (else the next poll would skip it).
class CursorWatch {
 public:
  explicit CursorWatch(E2eSystem& system) : system_(system) {
    thread_ = std::thread([this] { run(); });
  }
  ~CursorWatch() { stop(); }
  void stop() {
    running_ = false;
    if (thread_.joinable()) thread_.join();
  }
  int64_t samples = 0;
  std::vector<std::string> problems;

 private:
  void run() {
    std::set<std::string> on_disk;
    int64_t last_seq = 0, last_cursor = -1;
    while (running_) {
      std::this_thread::sleep_for(50ms);
      auto records = system_.schedule().made();
      try {
        auto cursor = system_.cursor();
        if (!cursor) continue;
        for (const auto& row : system_.rows("SELECT seq, url FROM jobs WHERE seq > " +
                                            std::to_string(last_seq) + " ORDER BY seq")) {
          last_seq = std::stoll(row[0].value_or("0"));
          for (const auto& [name, value] : query_parameters(row[1].value_or(""))) {
            if (name == "id") on_disk.insert(value);
          }
        }
        ++samples;
        if (*cursor < last_cursor) {
          problems.push_back("cursor moved back from " + std::to_string(last_cursor) + " to " +
                             std::to_string(*cursor));
        }
        last_cursor = *cursor;
        for (const auto& record : records) {
          if (record.visible_at_ms <= *cursor - kOverlapMs && on_disk.count(record.id) == 0) {
            problems.push_back("cursor " + std::to_string(*cursor) + " passed " + record.id +
                               " (visible at " + std::to_string(record.visible_at_ms) +
                               ") which is not on disk");
          }
        }
      } catch (const std::exception&) {
        // A busy or half-created database: sample again.
      }
      if (problems.size() > 20) return;
    }
  }

  E2eSystem& system_;
  std::atomic<bool> running_{true};
  std::thread thread_;
};

class Chaos : public ::testing::TestWithParam<Driver> {};

TEST_P(Chaos, RandomSigkillsOfBothProcessesLoseNothingAndDuplicateOnlyInterruptedRequests) {
  testing::RecordScheduleOptions schedule;
  schedule.every = 3ms;
  schedule.limit = kRecords;
  E2eSystem system({}, schedule, GetParam());
  system.env()["WEBHOOK_UNSUCCESSFUL_RETRY_ATTEMPTS"] = "20";
  system.env()["WEBHOOK_POLL_OVERLAP"] = "2";
  system.start_poller();
  system.start_dispatcher();
  ASSERT_TRUE(eventually([&] { return system.cursor().has_value(); })) << system.logs();
  CursorWatch watch(system);
  system.schedule().start();

  std::mt19937 random(static_cast<unsigned>(::testing::UnitTest::GetInstance()->random_seed()));
  std::uniform_int_distribution<int> pause_ms(50, 600);
  std::vector<bool> order(2 * kKillsEach);
  for (int i = 0; i < kKillsEach; ++i) order[static_cast<std::size_t>(i)] = true;
  std::shuffle(order.begin(), order.end(), random);
  int poller_kills = 0, dispatcher_kills = 0;
  for (bool poller : order) {
    std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms(random)));  // a random moment
    if (poller) {
      ASSERT_TRUE(system.stop_poller(SIGKILL).has_value());
      system.start_poller();
      ++poller_kills;
    } else {
      ASSERT_TRUE(system.stop_dispatcher(SIGKILL).has_value());
      system.start_dispatcher();
      ++dispatcher_kills;
    }
  }
  ASSERT_TRUE(eventually([&] { return system.schedule().count() >= kRecords; }, 120s));
  ASSERT_TRUE(system.wait_all_delivered(120s))
      << "delivered " << system.received_ids().size() << " of " << kRecords;
  watch.stop();
  for (const auto& problem : watch.problems) ADD_FAILURE() << problem;
  EXPECT_GT(watch.samples, 20);

  // Nothing lost, one job per record.
  auto received = system.received_ids();
  EXPECT_EQ(received.size(), static_cast<std::size_t>(kRecords));
  EXPECT_EQ(system.scalar("SELECT count(*) FROM jobs"), kRecords);
  ASSERT_TRUE(eventually([&] { return system.jobs_in("delivered") == kRecords; }, 30s));

  // Every duplicate is explained by an interrupted attempt of a dispatcher that was killed.
  std::map<std::string, int> deliveries_by_key;
  for (const auto& r : system.sink().requests()) ++deliveries_by_key[r.header("Idempotency-Key")];
  std::map<std::string, int> attempts_by_key, killed_interruptions_by_key;
  for (const auto& row : system.rows("SELECT j.id, a.error, a.worker FROM attempts AS a "
                                     "JOIN jobs AS j ON j.seq = a.job_seq")) {
    const std::string id = row[0].value_or("");
    ++attempts_by_key[id];
    if (row[1] == "interrupted: lease expired" &&
        system.killed_pids().count(pid_of_worker(row[2].value_or("::"))) != 0) {
      ++killed_interruptions_by_key[id];
    }
  }
  int duplicates = 0;
  for (const auto& [key, count] : deliveries_by_key) {
    EXPECT_LE(count, attempts_by_key[key]) << key << ": a request without an attempt row";
    if (count > 1) {
      ++duplicates;
      EXPECT_GE(killed_interruptions_by_key[key], count - 1)
          << key << " was delivered " << count << " times without an interrupted attempt";
    }
  }
  EXPECT_EQ(poller_kills, kKillsEach);
  EXPECT_EQ(dispatcher_kills, kKillsEach);
  std::cout << "chaos: " << kRecords << " records, " << poller_kills << "+" << dispatcher_kills
            << " SIGKILLs, " << duplicates << " duplicate deliveries (all interrupted), "
            << watch.samples << " cursor samples\n";
}

INSTANTIATE_TEST_SUITE_P(Store, Chaos, ::testing::ValuesIn(testing::kAllDrivers),
                         testing::driver_name);

}  // namespace
}  // namespace webhook::e2e
