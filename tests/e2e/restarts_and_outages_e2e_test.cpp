// Restarts (SIGTERM) of either process, an OpenCTI outage, a receiver outage and every kind
// of bad answer from OpenCTI, with records flowing: nothing lost, nothing duplicated, and the
// database says what failed. Each runs once per store driver (SQLite file, PostgreSQL server).
#include "tests/e2e/e2e_system.h"

namespace webhook::e2e {
namespace {

testing::RecordScheduleOptions every(std::chrono::milliseconds interval) {
  testing::RecordScheduleOptions options;
  options.every = interval;
  return options;
}

// Starts both processes and waits for the poller's first commit, so that the records made
// from now on fall in its windows.
void start_both(E2eSystem& system) {
  system.start_poller();
  system.start_dispatcher();
  ASSERT_TRUE(eventually([&] { return system.cursor().has_value(); })) << system.logs();
}

class Restarts : public ::testing::TestWithParam<Driver> {};
class Outages : public ::testing::TestWithParam<Driver> {};

TEST_P(Restarts, SigtermOfEitherProcessAnyNumberOfTimesLosesAndDuplicatesNothing) {
  E2eSystem system({}, every(15ms), GetParam());
  start_both(system);
  system.schedule().start();
  for (int round = 0; round < 4; ++round) {
    auto delivered = system.sink().count();
    ASSERT_TRUE(system.sink().wait_for_count(delivered + 10, 30s)) << system.logs();
    EXPECT_EQ(system.stop_poller(SIGTERM), 0) << system.logs();
    system.start_poller();
    delivered = system.sink().count();
    ASSERT_TRUE(system.sink().wait_for_count(delivered + 10, 30s)) << system.logs();
    EXPECT_EQ(system.stop_dispatcher(SIGTERM), 0) << system.logs();
    system.start_dispatcher();
  }
  system.schedule().stop();
  ASSERT_TRUE(system.wait_all_delivered(60s)) << system.logs();
  system.expect_each_record_exactly_once();
  EXPECT_EQ(system.sink().count(), static_cast<std::size_t>(system.schedule().count()));
  EXPECT_EQ(system.scalar("SELECT count(*) FROM attempts WHERE error != ''"), 0);
}

TEST_P(Outages, OpenctiDownForSeveralPollsLosesNothingAndThePollRowsSayWhy) {
  E2eSystem system({}, every(20ms), GetParam());
  start_both(system);
  system.schedule().start();
  ASSERT_TRUE(system.sink().wait_for_count(5, 30s)) << system.logs();
  int64_t failed_before = system.scalar("SELECT count(*) FROM polls WHERE status = 'failed'");
  system.fake().stop();
  // Several poll intervals of failures (the poller backs off from 1 s: wait for three).
  ASSERT_TRUE(eventually(
      [&] {
        return system.scalar("SELECT count(*) FROM polls WHERE status = 'failed'") >=
               failed_before + 3;
      },
      60s))
      << system.logs();
  auto cursor_during = system.cursor();
  system.fake().start();
  system.schedule().stop();
  ASSERT_TRUE(system.wait_all_delivered(60s)) << system.logs();
  system.expect_each_record_exactly_once();
  EXPECT_GT(system.cursor().value_or(0), cursor_during.value_or(0));
  auto failed = system.rows("SELECT error FROM polls WHERE status = 'failed'");
  for (const auto& row : failed) {
    EXPECT_NE(row[0].value_or("").find("cannot get an answer from"), std::string::npos)
        << row[0].value_or("NULL");
  }
  EXPECT_GE(failed.size(), 3u);
  EXPECT_TRUE(system.poller().running());
}

TEST_P(Outages, ReceiverDownRetriesAsConfiguredThenDeadThenRetryDeadDeliversOnce) {
  E2eSystem system({}, every(20ms), GetParam());
  system.sink().set_default_script(Script::always(Reply::status_only(503)));
  start_both(system);
  constexpr int kRecords = 8;
  for (int i = 0; i < kRecords; ++i) system.schedule().make_one();
  ASSERT_TRUE(eventually([&] { return system.jobs_in("dead") == kRecords; }, 60s)) << system.logs();
  // The first try and WEBHOOK_UNSUCCESSFUL_RETRY_ATTEMPTS (3) retries, no more, each one
  // recorded; an attempt that did not reach the receiver (a timeout on a loaded machine)
  // counts as well.
  EXPECT_EQ(system.scalar("SELECT count(*) FROM jobs WHERE state = 'dead' AND attempts = 4"),
            kRecords);
  EXPECT_EQ(system.scalar("SELECT count(*) FROM attempts"), 4 * kRecords);
  EXPECT_EQ(system.scalar("SELECT count(*) FROM attempts WHERE http_status BETWEEN 200 AND 299"),
            0);
  auto tries = system.received_ids(false);
  EXPECT_EQ(tries.size(), static_cast<std::size_t>(kRecords));
  int reached = 0;
  for (const auto& [id, count] : tries) {
    EXPECT_LE(count, 4) << id;
    reached += count;
  }
  EXPECT_EQ(system.scalar("SELECT count(*) FROM attempts WHERE http_status = 503"), reached)
      << system.logs();

  system.sink().set_default_script(Script::always(Reply{}));
  auto retry = testing::run_command(
      {WEBHOOK_BINARY_DIR "/ctl/webhookctl", "retry", "--dead", "--database", system.database()});
  EXPECT_EQ(retry.exit_code, 0) << retry.out << retry.err;
  ASSERT_TRUE(system.wait_all_delivered(30s)) << system.logs();
  system.expect_each_record_exactly_once();
  EXPECT_TRUE(eventually([&] { return system.jobs_in("delivered") == kRecords; }));
}

struct BadAnswer {
  const char* name;
  FakeFailure failure;
  const char* reason;  // in the failed poll's error
};

class BadAnswers : public ::testing::TestWithParam<std::tuple<BadAnswer, Driver>> {};

TEST_P(BadAnswers, FailThePollWithAClearReasonKeepTheCursorAndTheNextPollCatchesUp) {
  const BadAnswer& bad = std::get<0>(GetParam());
  E2eSystem system({}, {}, std::get<1>(GetParam()));
  system.env()["WEBHOOK_GRAPHQL_MAX_RESPONSE_BYTES"] = "1048576";
  start_both(system);
  system.schedule().make_one();
  ASSERT_TRUE(system.wait_all_delivered(30s)) << system.logs();

  system.fake().fail_next(bad.failure);
  system.schedule().make_one();  // made while the poll that fails is due
  ASSERT_TRUE(eventually(
      [&] { return system.scalar("SELECT count(*) FROM polls WHERE status = 'failed'") == 1; },
      30s))
      << system.logs();
  ASSERT_TRUE(system.wait_all_delivered(30s)) << system.logs();
  system.schedule().make_one();
  ASSERT_TRUE(system.wait_all_delivered(30s)) << system.logs();
  system.expect_each_record_exactly_once();

  auto failed = system.rows("SELECT id, error, window_from FROM polls WHERE status = 'failed'");
  ASSERT_EQ(failed.size(), 1u);
  const std::string error = failed[0][1].value_or("");
  EXPECT_NE(error.find(bad.reason), std::string::npos) << error;
  // The cursor did not move: the next poll asked for the same window.
  auto next = system.rows("SELECT window_from, status FROM polls WHERE id > " +
                          failed[0][0].value_or("0") + " ORDER BY id");
  ASSERT_FALSE(next.empty());
  EXPECT_EQ(next[0][0], failed[0][2]);
  EXPECT_EQ(next[0][1], "ok");
  EXPECT_TRUE(system.poller().running());
  EXPECT_EQ(system.stop_poller(), 0);
}

INSTANTIATE_TEST_SUITE_P(Store, Restarts, ::testing::ValuesIn(testing::kAllDrivers),
                         testing::driver_name);
INSTANTIATE_TEST_SUITE_P(Store, Outages, ::testing::ValuesIn(testing::kAllDrivers),
                         testing::driver_name);

INSTANTIATE_TEST_SUITE_P(
    FromOpencti, BadAnswers,
    ::testing::Combine(
        ::testing::Values(
            BadAnswer{"Http502", FakeFailure::http_status(502), "HTTP 502 from"},
            BadAnswer{"Timeout", FakeFailure::stalled(10s), "no complete answer from"},
            BadAnswer{"MalformedJson", FakeFailure::of(FakeFailure::Kind::kMalformedJson),
                      "answered with a body that is not JSON"},
            BadAnswer{"GraphqlErrors",
                      FakeFailure::graphql_errors("INTERNAL_SERVER_ERROR", "Elastic is down"),
                      "INTERNAL_SERVER_ERROR: Elastic is down"},
            BadAnswer{"EmptyBody", FakeFailure::of(FakeFailure::Kind::kEmptyBody),
                      "answered with an empty body"},
            BadAnswer{"Oversized", FakeFailure::huge(10 * 1024 * 1024), "is larger than"}),
        ::testing::ValuesIn(testing::kAllDrivers)),
    [](const ::testing::TestParamInfo<std::tuple<BadAnswer, Driver>>& info) {
      return std::string(std::get<0>(info.param).name) +
             (std::get<1>(info.param) == Driver::kPostgres ? "_Postgres" : "");
    });

}  // namespace
}  // namespace webhook::e2e
