// `webhook-poller --once` beside a running poller, on each driver: it takes each feed's lease
// for its poll, so it never commits under a running poller's feet. A feed whose lease the
// running one holds is not polled (one log line naming the holder) and --once exits 1; with
// no one else it polls under the lease, releases it and exits 0.
#include <unistd.h>

#include "tests/e2e/e2e_system.h"

namespace webhook::e2e {
namespace {

class OncePoller : public ::testing::TestWithParam<Driver> {
 protected:
  OncePoller() : system_({}, {}, GetParam()) { system_.env()["WEBHOOK_POLLER_LEASE"] = "2"; }

  // The holder (host:pid) and epoch of the default feed's lease row.
  std::pair<std::string, int64_t> lease() const {
    auto rows = system_.rows("SELECT holder, epoch FROM feed_leases WHERE feed = 'default'");
    if (rows.empty() || !rows[0][0] || !rows[0][1]) return {"", 0};
    return {*rows[0][0], std::stoll(*rows[0][1])};
  }

  testing::CommandResult once() {
    return testing::run_command({WEBHOOK_BINARY_DIR "/poller/webhook-poller", "--once"},
                                system_.env());
  }

  E2eSystem system_;
};

TEST_P(OncePoller, BesideARunningPollerItPollsNothingNamesTheHolderAndExitsOne) {
  system_.start_poller();
  const std::string running_pid = std::to_string(system_.poller().pid());
  ASSERT_TRUE(eventually(
      [&] {
        const std::string holder = lease().first;
        return holder.size() > running_pid.size() &&
               holder.substr(holder.rfind(':') + 1) == running_pid;
      },
      30s))
      << system_.logs();
  ASSERT_TRUE(eventually([&] { return system_.cursor().has_value(); }, 30s)) << system_.logs();
  const auto [holder, epoch] = lease();

  auto r = once();
  const std::string output = r.out + r.err;
  EXPECT_EQ(r.exit_code, 1) << output;
  std::size_t lines = 0;
  std::string said;
  for (std::size_t at = 0; (at = output.find("feed not polled", at)) != std::string::npos; ++at) {
    ++lines;
    said = output.substr(at, output.find('\n', at) - at);
  }
  EXPECT_EQ(lines, 1u) << output;
  EXPECT_NE(said.find(holder), std::string::npos) << said;
  EXPECT_EQ(output.find("poll ok"), std::string::npos) << output;
  // The running poller kept its lease, under the same tenure, and goes on polling.
  EXPECT_EQ(lease(), std::make_pair(holder, epoch));
  const auto polls = system_.scalar("SELECT count(*) FROM polls");
  EXPECT_TRUE(eventually([&] { return system_.scalar("SELECT count(*) FROM polls") > polls; }, 30s))
      << system_.logs();
  EXPECT_EQ(system_.stop_poller(SIGTERM), 0) << system_.logs();
}

TEST_P(OncePoller, AloneItPollsUnderTheLeaseAndReleasesIt) {
  auto r = once();
  const std::string output = r.out + r.err;
  ASSERT_EQ(r.exit_code, 0) << output;
  EXPECT_NE(output.find("poll ok"), std::string::npos) << output;
  EXPECT_NE(output.find("feed lease released"), std::string::npos) << output;
  EXPECT_TRUE(system_.cursor().has_value());
  // The lease was its own, and is free again: a poller started now takes it at once.
  const auto [holder, epoch] = lease();
  EXPECT_NE(output.find(holder), std::string::npos) << holder;
  EXPECT_EQ(epoch, 1);
  system_.start_poller();
  EXPECT_TRUE(eventually(
      [&] {
        const auto now = lease();
        return now.second == 2 && now.first != holder;
      },
      10s))
      << system_.logs();
  EXPECT_EQ(system_.stop_poller(SIGTERM), 0) << system_.logs();
}

INSTANTIATE_TEST_SUITE_P(Drivers, OncePoller, ::testing::ValuesIn(testing::kAllDrivers),
                         testing::driver_name);

}  // namespace
}  // namespace webhook::e2e
