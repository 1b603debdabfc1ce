// webhookctl's queue commands, run as a real process against a real database: once on a
// SQLite file and once on the throwaway PostgreSQL cluster, with the same expectations.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/store/job_store.h"
#include "tests/support/child_process.h"
#include "tests/support/store_fixtures.h"
#include "tests/support/temp_dir.h"

namespace webhook::ctl {
namespace {

using namespace std::chrono_literals;
using store::JobState;
using store::OutcomeKind;

const std::string kCtl = WEBHOOK_BINARY_DIR "/ctl/webhookctl";

class QueueCommandsTest : public ::testing::TestWithParam<testing::Driver> {
 protected:
  void SetUp() override {
    auto s = open();
    const int64_t t = now_ - 60000;
    auto works = testing::enqueue(*s, "works", 3, t);
    testing::enqueue(*s, "users", 1, t);
    auto claimed = s->claim("d1", 2, 30s, t);  // the two oldest of "works"
    s->record_outcomes(
        std::vector{testing::outcome_for(claimed[0], "d1", OutcomeKind::kDelivered, t),
                    testing::outcome_for(claimed[1], "d1", OutcomeKind::kDead, t, 500)},
        t + 10);
    delivered_ = claimed[0].id;
    dead_ = claimed[1].id;
    pending_ = works[2];
    s->heartbeat("dispatcher", "d1", t);
  }

  testing::CommandResult ctl(std::vector<std::string> args) {
    args.insert(args.begin(), kCtl);
    args.push_back("--database");
    args.push_back(database());
    return testing::run_command(args);
  }
  std::unique_ptr<store::JobStore> open() const { return database_.open(); }
  // What --database takes: the file's path or the server's URL.
  std::string database() const {
    const store::StoreOptions& o = database_.options();
    return o.url.empty() ? o.path : o.url;
  }
  store::JobRow row(const std::string& id) { return open()->job(id).value().job; }

  testing::TestDatabase database_{GetParam()};
  int64_t now_ = SystemClock().now_ms();
  std::string delivered_, dead_, pending_;
};

TEST_P(QueueCommandsTest, StatusShowsWhichDispatchersAreLiveAndTheirShareOfTheClusterCap) {
  auto s = open();
  s->heartbeat("dispatcher", "host-b:20:y", now_ - 2000);
  s->heartbeat("dispatcher", "host-a:10:x", now_ - 1000);
  s->heartbeat("poller", "p", now_);  // pollers are not dispatchers
  // "d1" heartbeated a minute ago (SetUp): gone, three 10 s intervals being the bound.
  const std::map<std::string, std::string> env = {{"WEBHOOK_CLUSTER_HOST_CONCURRENCY", "5"}};
  auto r = testing::run_command({kCtl, "status", "--database", database()}, env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("dispatchers: 2 live (a heartbeat within 30s), sharing a cap of 5"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("SHARE"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("gone"), std::string::npos) << r.out;

  auto j = testing::run_command({kCtl, "status", "--json", "--database", database()}, env);
  ASSERT_EQ(j.exit_code, 0) << j.err;
  auto fleet = nlohmann::json::parse(j.out)["dispatchers"];
  ASSERT_EQ(fleet.size(), 3u) << fleet;
  EXPECT_EQ(fleet[0]["worker"], "host-a:10:x");  // live ones first, by name: the split's rank
  EXPECT_EQ(fleet[0]["live"], true);
  EXPECT_EQ(fleet[0]["share"], 3);
  EXPECT_EQ(fleet[0]["last_heartbeat"], now_ - 1000);
  EXPECT_EQ(fleet[1]["worker"], "host-b:20:y");
  EXPECT_EQ(fleet[1]["share"], 2);
  EXPECT_EQ(fleet[2]["worker"], "d1");
  EXPECT_EQ(fleet[2]["live"], false);
  EXPECT_TRUE(fleet[2]["share"].is_null());

  // Without the cap: who is live, no shares; a longer interval keeps d1 live.
  auto plain = testing::run_command({kCtl, "status", "--json", "--database", database()},
                                    {{"WEBHOOK_DISPATCHER_HEARTBEAT_INTERVAL", "60"}});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  auto all_live = nlohmann::json::parse(plain.out)["dispatchers"];
  ASSERT_EQ(all_live.size(), 3u);
  for (const auto& d : all_live) {
    EXPECT_EQ(d["live"], true) << d;
    EXPECT_TRUE(d["share"].is_null()) << d;
  }
}

TEST_P(QueueCommandsTest, StatusTellsADispatcherThatStoppedFromOneThatWentSilent) {
  auto s = open();
  s->heartbeat("dispatcher", "host-a:10:x", now_ - 1000);
  s->heartbeat("dispatcher", "host-b:20:y", now_ - 2000);
  s->mark_stopped("dispatcher", "host-b:20:y", now_ - 500);
  // "d1" heartbeated a minute ago (SetUp) and said nothing: gone.
  const std::map<std::string, std::string> env = {{"WEBHOOK_CLUSTER_HOST_CONCURRENCY", "5"}};
  auto r = testing::run_command({kCtl, "status", "--database", database()}, env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("dispatchers: 1 live"), std::string::npos) << r.out;
  const auto line_of = [&](const std::string& worker) {
    const auto at = r.out.find(worker);
    return at == std::string::npos ? std::string() : r.out.substr(at, r.out.find('\n', at) - at);
  };
  EXPECT_NE(line_of("host-b:20:y").find("stopped"), std::string::npos) << r.out;
  EXPECT_NE(line_of("d1 ").find("gone"), std::string::npos) << r.out;
  EXPECT_NE(line_of("host-a:10:x").find("live"), std::string::npos) << r.out;

  auto j = testing::run_command({kCtl, "status", "--json", "--database", database()}, env);
  ASSERT_EQ(j.exit_code, 0) << j.err;
  auto fleet = nlohmann::json::parse(j.out)["dispatchers"];
  ASSERT_EQ(fleet.size(), 3u) << fleet;
  EXPECT_EQ(fleet[0]["worker"], "host-a:10:x");
  EXPECT_EQ(fleet[0]["share"], 5) << "the stopped one is not counted";
  EXPECT_TRUE(fleet[0]["stopped_at"].is_null());
  EXPECT_EQ(fleet[1]["worker"], "host-b:20:y");  // then the others, newest first
  EXPECT_EQ(fleet[1]["live"], false);
  EXPECT_EQ(fleet[1]["stopped_at"], now_ - 500);
  EXPECT_EQ(fleet[2]["worker"], "d1");
  EXPECT_TRUE(fleet[2]["stopped_at"].is_null());
}

TEST_P(QueueCommandsTest, StatusShowsEveryFeedWithItsCounts) {
  auto r = ctl({"status"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("FEED"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("works"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("dispatcher: last seen"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("poller: never seen"), std::string::npos) << r.out;

  auto j = ctl({"status", "--json"});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  auto json = nlohmann::json::parse(j.out);
  ASSERT_EQ(json["feeds"].size(), 2u);
  EXPECT_EQ(json["feeds"][1]["feed"], "works");
  EXPECT_EQ(json["feeds"][1]["counts"]["dead"], 1);
  EXPECT_EQ(json["feeds"][1]["counts"]["delivered"], 1);
  EXPECT_EQ(json["feeds"][1]["counts"]["pending"], 1);
  EXPECT_EQ(json["feeds"][1]["last_poll"]["status"], "ok");
  EXPECT_TRUE(json["heartbeats"]["poller"].is_null());
}

TEST_P(QueueCommandsTest, JobsFiltersByStateAndFeed) {
  auto r = ctl({"jobs", "--state", "dead", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto json = nlohmann::json::parse(r.out);
  ASSERT_EQ(json.size(), 1u);
  EXPECT_EQ(json[0]["id"], dead_);
  EXPECT_EQ(json[0]["last_status"], 500);
  auto pending =
      nlohmann::json::parse(ctl({"jobs", "--state", "pending", "--feed", "users", "--json"}).out);
  EXPECT_EQ(pending.size(), 1u);
  auto table = ctl({"jobs", "--limit", "2"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_EQ(std::count(table.out.begin(), table.out.end(), '\n'), 3) << table.out;
  auto bad = ctl({"jobs", "--state", "lost"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--state must be"), std::string::npos) << bad.err;
}

TEST_P(QueueCommandsTest, ShowPrintsTheJobAndEveryAttempt) {
  auto r = ctl({"show", dead_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("http://sink/works/"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("dead"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("HTTP 500"), std::string::npos) << r.out;
  auto by_seq = ctl({"show", std::to_string(row(dead_).seq), "--json"});
  ASSERT_EQ(by_seq.exit_code, 0) << by_seq.err;
  auto json = nlohmann::json::parse(by_seq.out);
  EXPECT_EQ(json["id"], dead_);
  ASSERT_EQ(json["attempt_log"].size(), 1u);
  EXPECT_EQ(json["attempt_log"][0]["http_status"], 500);
  EXPECT_EQ(json["attempt_log"][0]["worker"], "d1");
  auto missing = ctl({"show", "00000000-0000-7000-8000-000000000000"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("no job"), std::string::npos);
}

TEST_P(QueueCommandsTest, RetryRequeuesDeadJobsAndRefusesOthers) {
  auto r = ctl({"retry", dead_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("requeued 1 job"), std::string::npos) << r.out;
  EXPECT_EQ(row(dead_).state, JobState::kPending);
  EXPECT_EQ(row(dead_).attempts, 0);
  auto refused = ctl({"retry", delivered_});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("is delivered"), std::string::npos) << refused.err;
  EXPECT_EQ(row(delivered_).state, JobState::kDelivered);
}

TEST_P(QueueCommandsTest, RetryDeadTakesAFeedsDeadJobs) {
  auto other = ctl({"retry", "--dead", "--feed", "users", "--json"});
  ASSERT_EQ(other.exit_code, 0) << other.err;
  EXPECT_EQ(nlohmann::json::parse(other.out)["requeued"], 0);
  auto r = ctl({"retry", "--dead", "--feed", "works", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["requeued"], 1);
  EXPECT_EQ(row(dead_).state, JobState::kPending);
  EXPECT_EQ(ctl({"retry", "--dead", dead_}).exit_code, 2);
}

TEST_P(QueueCommandsTest, CancelStopsPendingJobsOnly) {
  auto r = ctl({"cancel", pending_, delivered_});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("cancelled 1 job"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("only pending"), std::string::npos) << r.err;
  EXPECT_EQ(row(pending_).state, JobState::kCancelled);
  EXPECT_EQ(row(delivered_).state, JobState::kDelivered);
}

TEST_P(QueueCommandsTest, BlockedListsKeysHeldByADeadJobAndCancelLetsThemGoOn) {
  EXPECT_NE(ctl({"blocked"}).out.find("no order key is blocked"), std::string::npos);
  std::string blocker;
  {
    auto s = open();
    store::PollCommit c = testing::make_poll("entities", 2, now_, s->cursor("entities"));
    for (auto& job : c.jobs) job.order_key = "indicator--42";
    c.dead_blocks_key = true;
    ASSERT_TRUE(s->commit_poll(c));
    blocker = c.jobs[0].id;
    bool found = false;  // the second job of the key waits, so is never claimed here
    for (const auto& j : s->claim("d1", 10, 30s, now_)) {
      EXPECT_NE(j.id, c.jobs[1].id);
      if (j.id != blocker) continue;
      found = true;
      s->record_outcomes(std::vector{testing::outcome_for(j, "d1", OutcomeKind::kDead, now_, 410)},
                         now_);
    }
    ASSERT_TRUE(found);
  }
  auto r = ctl({"blocked"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("indicator--42"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(blocker), std::string::npos) << r.out;
  auto json = nlohmann::json::parse(ctl({"blocked", "--json", "--feed", "entities"}).out);
  ASSERT_EQ(json.size(), 1u);
  EXPECT_EQ(json[0]["blocking_id"], blocker);
  EXPECT_EQ(json[0]["waiting"], 1);
  EXPECT_NE(ctl({"status"}).out.find("webhookctl blocked"), std::string::npos);
  EXPECT_NE(ctl({"show", blocker}).out.find("order key: indicator--42"), std::string::npos);
  auto cancel = ctl({"cancel", blocker});
  EXPECT_EQ(cancel.exit_code, 0) << cancel.err;
  EXPECT_EQ(row(blocker).state, JobState::kCancelled);
  EXPECT_NE(ctl({"blocked"}).out.find("no order key is blocked"), std::string::npos);
  EXPECT_EQ(ctl({"blocked", "--limit", "0"}).exit_code, 2);
}

TEST_P(QueueCommandsTest, PruneDeletesFinishedJobsOlderThanTheRetention) {
  auto keep = ctl({"prune", "--json"});  // default 30 days: everything is younger
  ASSERT_EQ(keep.exit_code, 0) << keep.err;
  EXPECT_EQ(nlohmann::json::parse(keep.out)["jobs"], 0);
  auto r = ctl({"prune", "--older-than", "0", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto json = nlohmann::json::parse(r.out);
  EXPECT_EQ(json["jobs"], 2);
  EXPECT_EQ(json["attempts"], 2);
  EXPECT_EQ(json["polls"], 2);
  EXPECT_EQ(row(pending_).state, JobState::kPending);
  EXPECT_EQ(ctl({"prune", "--older-than", "soon"}).exit_code, 2);
}

TEST_P(QueueCommandsTest, RewindMovesTheCursorToAnIsoTimeOrEpochMilliseconds) {
  auto r = ctl({"rewind", "--feed", "works", "--to", "2023-11-14T22:13:20Z"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(open()->cursor("works"), 1'700'000'000'000);
  ASSERT_EQ(ctl({"rewind", "--feed", "works", "--to", "1700000000500"}).exit_code, 0);
  EXPECT_EQ(open()->cursor("works"), 1'700'000'000'500);
  ASSERT_EQ(ctl({"rewind", "--feed", "works", "--to", "2023-11-15T00:13:20.25+02:00"}).exit_code,
            0);
  EXPECT_EQ(open()->cursor("works"), 1'700'000'000'250);
  auto bad = ctl({"rewind", "--feed", "works", "--to", "yesterday"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("ISO-8601"), std::string::npos) << bad.err;
}

TEST_P(QueueCommandsTest, RewindMovesAStreamFeedToAStreamIdOrTheFirstIdOfATime) {
  store::StreamCommit c;
  c.feed = "live";
  c.new_cursor = "1700000009000-4";
  c.heartbeats = 1;
  c.now = now_;
  ASSERT_TRUE(open()->commit_stream(c));
  auto r = ctl({"rewind", "--feed", "live", "--to", "1700000001000-2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(open()->stream_cursor("live"), "1700000001000-2");
  EXPECT_NE(r.out.find("from 1700000009000-4 to 1700000001000-2"), std::string::npos) << r.out;
  ASSERT_EQ(ctl({"rewind", "--feed", "live", "--to", "2023-11-14T22:13:20Z"}).exit_code, 0);
  EXPECT_EQ(open()->stream_cursor("live"), "1700000000000-0");
  auto j = ctl({"rewind", "--feed", "live", "--to", "1700000000500", "--json"});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  EXPECT_EQ(nlohmann::json::parse(j.out), (nlohmann::json{{"feed", "live"},
                                                          {"source", "stream"},
                                                          {"from", "1700000000000-0"},
                                                          {"to", "1700000000500-0"}}));
  EXPECT_EQ(open()->stream_cursor("live"), "1700000000500-0");
  EXPECT_EQ(open()->cursor("live"), std::nullopt) << "no polling cursor made up";

  // Neither a stream id nor a time; a feed the store never saw; a stream id for a polling
  // feed: exit 2, one line saying what was wrong, nothing moved.
  auto bad = ctl({"rewind", "--feed", "live", "--to", "17-x"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--to must be a stream id (1679004823824-0), an ISO-8601 time"),
            std::string::npos)
      << bad.err;
  auto missing = ctl({"rewind", "--feed", "nosuch", "--to", "1700000001000-2"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("no feed nosuch to rewind"), std::string::npos) << missing.err;
  EXPECT_NE(missing.err.find("live, users, works"), std::string::npos) << missing.err;
  const auto works = open()->cursor("works");
  auto polling = ctl({"rewind", "--feed", "works", "--to", "1700000001000-2"});
  EXPECT_EQ(polling.exit_code, 2);
  EXPECT_NE(polling.err.find("feed works polls OpenCTI"), std::string::npos) << polling.err;
  EXPECT_EQ(open()->cursor("works"), works);
  EXPECT_EQ(open()->stream_cursor("live"), "1700000000500-0");
  EXPECT_EQ(open()->stream_cursor("nosuch"), std::nullopt);
}

TEST_P(QueueCommandsTest, TheDatabaseComesFromTheEnvironment) {
  const store::StoreOptions& o = database_.options();
  const auto env = o.url.empty()
                       ? std::map<std::string, std::string>{{"WEBHOOK_DATABASE_PATH", o.path}}
                       : std::map<std::string, std::string>{{"WEBHOOK_DATABASE_URL", o.url}};
  auto r = testing::run_command({kCtl, "jobs", "--json"}, env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out).size(), 4u);
}

INSTANTIATE_TEST_SUITE_P(Drivers, QueueCommandsTest, ::testing::ValuesIn(testing::kAllDrivers),
                         testing::driver_name);

TEST(QueueCommandsFileTest, MissingDatabaseIsAClearErrorAndIsNotCreated) {
  testing::TempDir dir_;
  const std::string absent = dir_.file("nothing/here.db");
  auto r = testing::run_command({kCtl, "status", "--database", absent});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("does not exist"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(absent));
  EXPECT_FALSE(std::filesystem::exists(dir_.file("nothing")));
}

}  // namespace
}  // namespace webhook::ctl

namespace webhook::ctl {
namespace {

// A URL libpq cannot read is a bad setting (exit 2) for the queue commands and health alike,
// and its password is not echoed.
TEST(QueueCommandsUrlTest, AMalformedUrlIsExitTwoWithoutThePassword) {
  const std::string url = "postgresql://webhook:bad-url-pw@127.0.0.1:9/db?no_such_option=1";
  for (const std::vector<std::string>& argv :
       {std::vector<std::string>{kCtl, "status", "--database", url},
        std::vector<std::string>{kCtl, "jobs", "--database", url},
        std::vector<std::string>{kCtl, "health", "--process", "dispatcher", "--database", url}}) {
    SCOPED_TRACE(argv[1]);
    auto r =
        testing::run_command(argv, {{"OPENCTI_URL", "http://127.0.0.1:9"}, {"OPENCTI_TOKEN", "t"}});
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_NE(r.err.find("not a PostgreSQL connection URI"), std::string::npos) << r.err;
    EXPECT_EQ((r.out + r.err).find("bad-url-pw"), std::string::npos) << r.out << r.err;
  }
}

}  // namespace
}  // namespace webhook::ctl
