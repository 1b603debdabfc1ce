// Ordered delivery end to end: 2,000 events over 200 order keys, a receiver that fails the
// first try of every fifth request, two dispatchers sharing the queue. For every key the
// receiver's successful requests arrive in the order the poller enqueued the events, and
// every event arrives. Once per store driver.
#include <iomanip>

#include "common/clock.h"

#include "tests/e2e/e2e_system.h"

namespace webhook::e2e {
namespace {

constexpr int kEvents = 2000;
constexpr int kKeys = 200;

class OrderedDelivery : public ::testing::TestWithParam<Driver> {};

std::string event_id(int i) {
  std::ostringstream out;
  out << "event-" << std::setw(4) << std::setfill('0') << i;
  return out.str();
}

// The id (the last path segment) of a request to /ordered/<id>.
std::string id_of_path(const std::string& path) { return path.substr(path.rfind('/') + 1); }

TEST_P(OrderedDelivery, EachKeysSuccessfulRequestsArriveInEnqueueOrderAndAllArrive) {
  E2eSystem system({}, {}, GetParam());
  auto& env = system.env();
  env["WEBHOOK_URL"] = system.sink().url("/ordered/") + "{item['node']['id']}";
  env["WEBHOOK_ORDER_KEY"] = "{item['node']['connector']['name']}";
  env["WEBHOOK_UNSUCCESSFUL_RETRY_INTERVAL"] = "0.05";
  env["WEBHOOK_CONCURRENCY"] = "32";
  // The events exist before the first poll, inside its window, each of them once.
  const int64_t now = SystemClock().now_ms();
  for (int i = 0; i < kEvents; ++i) {
    const std::string id = event_id(i);
    const std::string key = "entity-" + std::to_string(i % kKeys);
    system.fake().records().add("works",
                                testing::FakeRecords::work(id, key, {"done"}, now - 60, now - 50));
    if (i % 5 == 0) {
      system.sink().set_script("/ordered/" + id, Script::fail_first(1, Reply::status_only(503)));
    }
  }
  system.start_poller();
  system.start_dispatcher();
  ChildProcess second({WEBHOOK_BINARY_DIR "/dispatcher/webhook-dispatcher"}, env,
                      system.dir().file("dispatcher-2.log"));

  const bool all = system.sink().wait_until(
      [](const std::vector<ReceivedRequest>& requests) {
        std::set<std::string> ok;
        for (const auto& r : requests) {
          if (r.status >= 200 && r.status < 300) ok.insert(r.path);
        }
        return ok.size() == static_cast<std::size_t>(kEvents);
      },
      180s);
  ASSERT_TRUE(all) << system.sink().count() << " requests so far";

  // The enqueue order per key, as the store has it.
  std::map<std::string, std::vector<std::string>> enqueued;
  for (const auto& row : system.rows("SELECT order_key, url FROM jobs ORDER BY seq")) {
    ASSERT_TRUE(row[0].has_value()) << "a job without an order key: " << row[1].value_or("");
    enqueued[*row[0]].push_back(id_of_path(row[1].value_or("")));
  }
  ASSERT_EQ(enqueued.size(), static_cast<std::size_t>(kKeys));
  // What the receiver answered with success, in the order the requests arrived.
  std::map<std::string, std::vector<std::string>> delivered;
  std::map<std::string, std::string> key_of;
  for (const auto& [key, ids] : enqueued) {
    for (const auto& id : ids) key_of[id] = key;
  }
  int failed_first_tries = 0;
  for (const auto& r : system.sink().requests()) {
    const std::string id = id_of_path(r.path);
    ASSERT_TRUE(key_of.count(id)) << r.target;
    if (r.status >= 200 && r.status < 300) {
      delivered[key_of[id]].push_back(id);
    } else {
      ++failed_first_tries;
    }
  }
  EXPECT_EQ(failed_first_tries, kEvents / 5);
  for (const auto& [key, ids] : enqueued) {
    EXPECT_EQ(ids.size(), static_cast<std::size_t>(kEvents / kKeys)) << key;
    EXPECT_EQ(delivered[key], ids) << "key " << key << ": successful requests out of order";
  }
  EXPECT_EQ(system.jobs_in("delivered"), kEvents);
  // Both dispatchers took part.
  EXPECT_EQ(system.scalar("SELECT count(DISTINCT worker) FROM attempts"), 2);
  second.signal(SIGTERM);
  EXPECT_EQ(second.wait_for(30s), 0);
}

INSTANTIATE_TEST_SUITE_P(Drivers, OrderedDelivery, ::testing::ValuesIn(testing::kAllDrivers),
                         testing::driver_name);

}  // namespace
}  // namespace webhook::e2e
