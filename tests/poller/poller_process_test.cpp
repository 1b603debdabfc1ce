// The real webhook-poller binary against a fake OpenCTI: exit codes, the one-shot modes,
// signals, and SIGKILL at random points of many polls.
#include <gtest/gtest.h>

#include <signal.h>

#include <atomic>
#include <filesystem>
#include <iostream>
#include <map>
#include <random>
#include <thread>

#include "common/store/job_store.h"
#include "common/store/open_store.h"
#include "tests/poller/poller_test_env.h"
#include "tests/support/child_process.h"

namespace webhook::poller::testing {
namespace {

using webhook::testing::ChildProcess;
using webhook::testing::eventually;
using webhook::testing::run_command;
using webhook::testing::TempDir;

const std::string kPoller = WEBHOOK_BINARY_DIR "/poller/webhook-poller";

std::map<std::string, std::string> poller_env(const FakeOpencti& fake, const TempDir& dir) {
  return poller_process_env(fake, dir, {{"WEBHOOK_GRAPHQL_TIMEOUT", "2"}});
}

void add_work(FakeOpencti& fake, const std::string& id) {
  SystemClock clock;
  int64_t now = clock.now_ms();
  fake.records().add("works", FakeRecords::work(id, "Import", {"done"}, now - 1000, now));
}

std::size_t count_lines_with(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) {
    ++n;
  }
  return n;
}

TEST(PollerProcess, BadSettingsExitWith2AndOneLinePerProblemWithoutTheToken) {
  FakeOpencti fake;
  TempDir dir;
  auto env = poller_env(fake, dir);
  env.erase("OPENCTI_URL");
  env["WEBHOOK_GRAPHQL_POLLING_INTERVAL"] = "often";
  auto r = run_command({kPoller}, env);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("OPENCTI_URL: required but not set"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("WEBHOOK_GRAPHQL_POLLING_INTERVAL (environment): expected"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(count_lines_with(r.err, "\n"), 2u) << r.err;
  EXPECT_EQ(r.err.find(fake.token()), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir.file("webhook.db")));
}

TEST(PollerProcess, ATemplateThatDoesNotCompileShowsItWithACaret) {
  FakeOpencti fake;
  TempDir dir;
  auto env = poller_env(fake, dir);
  env["WEBHOOK_URL"] = "http://localhost?id={item['node'['id']}";
  auto r = run_command({kPoller, "--once"}, env);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("WEBHOOK_URL: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("http://localhost?id={item['node'['id']}"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("^"), std::string::npos) << r.err;
}

TEST(PollerProcess, OncePollsEveryFeedAndSaysWhetherItWorked) {
  FakeOpencti fake;
  TempDir dir;
  add_work(fake, "w1");
  auto ok = run_command({kPoller, "--once"}, poller_env(fake, dir));
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.err.find("OpenCTI reached"), std::string::npos) << ok.err;
  auto store = open_store(dir.file("webhook.db"));
  auto jobs = store->list_jobs({});
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].url, "http://receiver.test/hook?id=w1&connector=Import");

  fake.fail_next(FakeFailure::graphql_errors("FORBIDDEN_ACCESS", "Not allowed"), 2);
  auto failed = run_command({kPoller, "--once"}, poller_env(fake, dir));
  EXPECT_EQ(failed.exit_code, 1);
  EXPECT_NE(failed.err.find("FORBIDDEN_ACCESS: Not allowed"), std::string::npos) << failed.err;
}

TEST(PollerProcess, DryRunPrintsTheRequestsAndWritesNothing) {
  FakeOpencti fake;
  TempDir dir;
  add_work(fake, "w1");
  add_work(fake, "w2");
  auto r = run_command({kPoller, "--dry-run"}, poller_env(fake, dir));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(count_lines_with(r.out, "\n"), 2u) << r.out;
  EXPECT_NE(r.out.find("\"url\":\"http://receiver.test/hook?id=w1&connector=Import\""),
            std::string::npos)
      << r.out;
  EXPECT_FALSE(std::filesystem::exists(dir.file("webhook.db")));
}

TEST(PollerProcess, CheckConfigReachesThePlatformAndShowsTheFirstRequest) {
  FakeOpencti fake;
  TempDir dir;
  add_work(fake, "w1");
  auto r = run_command({kPoller, "--check-config"}, poller_env(fake, dir));
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("version 6.8.10"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("first request: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("hook?id=w1"), std::string::npos) << r.out;

  auto env = poller_env(fake, dir);
  env["OPENCTI_TOKEN"] = "not-the-right-token";
  auto bad = run_command({kPoller, "--check-config"}, env);
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.out.find("AUTH_REQUIRED"), std::string::npos) << bad.out;
  EXPECT_EQ((bad.out + bad.err).find("not-the-right-token"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir.file("webhook.db")));
}

TEST(PollerProcess, SigtermEndsTheSleepAtOnceAndExitsWith0) {
  FakeOpencti fake;
  TempDir dir;
  auto env = poller_env(fake, dir);
  env["WEBHOOK_GRAPHQL_POLLING_INTERVAL"] = "3600";
  ChildProcess poller({kPoller}, env, dir.file("poller.log"));
  ASSERT_TRUE(eventually([&] { return poller.output().find("poll ok") != std::string::npos; }))
      << poller.output();
  poller.signal(SIGTERM);
  EXPECT_EQ(poller.wait_for(std::chrono::seconds(5)), 0) << poller.output();
  EXPECT_NE(poller.output().find("stopped"), std::string::npos);
}

TEST(PollerProcess, FeedsPollOnTheirOwnThreadsSoAStalledFeedDelaysNoOther) {
  FakeOpencti fake;
  TempDir dir;
  auto env = poller_env(fake, dir);
  env["WEBHOOK_GRAPHQL_TIMEOUT"] = "60";
  std::string config = dir.write("config.yml", R"(
feeds:
  - name: works
    graphql_polling_interval: 0.05
    graphql_query: '{{works(filters:{{mode:and,filters:[{{key:"completed_time",operator:gt,values:["LAST_POLL_TIME"]}}],filterGroups:[]}}){{edges{{node{{id connector{{name}}}}}}}}}}'
    graphql_returned_data_location: "['data']['works']['edges']"
    url: "http://receiver.test/works?id={item['node']['id']}&x=1"
  - name: users
    graphql_polling_interval: 0.05
    graphql_query: '{{users(filters:{{mode:and,filters:[{{key:"created_at",operator:gt,values:["LAST_POLL_TIME"]}}],filterGroups:[]}}){{edges{{node{{id user_email}}}}}}}}'
    graphql_returned_data_location: "['data']['users']['edges']"
    url: "http://receiver.test/users?email={item['node']['user_email']}"
)");
  add_work(fake, "w1");
  SystemClock clock;
  fake.records().add("users", FakeRecords::user("u1", "u1@example.org", clock.now_ms()));
  ChildProcess poller({kPoller, "--config", config}, env, dir.file("poller.log"));
  std::string db = dir.file("webhook.db");
  auto polls = [&](const char* feed) {
    return std::filesystem::exists(db) ? open_store(db)->list_polls(feed, 100000).size() : 0u;
  };
  ASSERT_TRUE(eventually([&] { return polls("works") > 0 && polls("users") > 0; }))
      << poller.output();
  // One of the two feeds' next request hangs; the other goes on polling meanwhile.
  fake.fail_next(FakeFailure::stalled(std::chrono::seconds(60)));
  std::size_t works = polls("works"), users = polls("users");
  EXPECT_TRUE(eventually([&] {
    return polls("works") >= works + 5 || polls("users") >= users + 5;
  })) << poller.output();
  EXPECT_TRUE(polls("works") < works + 3 || polls("users") < users + 3);  // one is stalled
  poller.signal(SIGTERM);  // also abandons the stalled request
  EXPECT_EQ(poller.wait_for(std::chrono::seconds(10)), 0) << poller.output();
  auto store = open_store(db);
  store::JobFilter f;
  f.feed = "users";
  auto user_jobs = store->list_jobs(f);
  ASSERT_EQ(user_jobs.size(), 1u);
  EXPECT_EQ(user_jobs[0].url, "http://receiver.test/users?email=u1@example.org");
  f.feed = "works";
  EXPECT_EQ(store->list_jobs(f).size(), 1u);
}

// The poller SIGKILLed at random points of many polls while the platform keeps producing
// records: afterwards every record is in `jobs` exactly once.
TEST(PollerProcess, KilledAtRandomPointsItEnqueuesEveryRecordExactlyOnce) {
  FakeOpencti fake;
  TempDir dir;
  auto env = poller_env(fake, dir);
  env["WEBHOOK_GRAPHQL_POLLING_INTERVAL"] = "0.05";
  env["WEBHOOK_POLL_OVERLAP"] = "1";
  env["WEBHOOK_DATABASE_SYNCHRONOUS"] = "NORMAL";
  env["WEBHOOK_GRAPHQL_QUERY"] =
      "query ($after: ID) {{ works(first: 100, after: $after, filters: {{mode: and, filters: "
      "[{{key: \"completed_time\", operator: gt, values: [\"LAST_POLL_TIME\"]}}], filterGroups: "
      "[]}}) {{ edges {{ node {{ id connector {{ name }} }} }} pageInfo {{ endCursor hasNextPage "
      "}} }} }}";
  env["WEBHOOK_GRAPHQL_PAGE_INFO_LOCATION"] = "['data']['works']['pageInfo']";
  std::string db = dir.file("webhook.db");

  // The first poll of a new feed starts one interval back; records count from its commit.
  {
    ChildProcess first({kPoller}, env, dir.file("poller.log"));
    ASSERT_TRUE(eventually([&] {
      return std::filesystem::exists(db) && open_store(db)->cursor("default").has_value();
    })) << first.output();
    first.signal(SIGKILL);
    first.wait_for(std::chrono::seconds(5));
  }

  std::atomic<bool> producing{true};
  std::atomic<int> produced{0};
  std::thread producer([&] {
    while (producing) {
      add_work(fake, "r" + std::to_string(produced.load()));
      ++produced;
      std::this_thread::sleep_for(std::chrono::milliseconds(3));  // the production rate
    }
  });
  std::mt19937 random(20261128);
  std::uniform_int_distribution<int> kill_after_us(0, 300'000);
  int kills = 0;
  for (; kills < 40; ++kills) {
    ChildProcess poller({kPoller}, env, dir.file("poller.log"));
    // The kill point: a random moment of the poller's life (start, poll, commit, sleep).
    std::this_thread::sleep_for(std::chrono::microseconds(kill_after_us(random)));
    poller.signal(SIGKILL);
    ASSERT_TRUE(poller.wait_for(std::chrono::seconds(5)).has_value());
  }
  producing = false;
  producer.join();

  auto store = open_store(db);
  store::JobFilter all;
  all.limit = 1'000'000;
  ChildProcess last({kPoller}, env, dir.file("poller.log"));
  EXPECT_TRUE(eventually(
      [&] { return store->list_jobs(all).size() >= static_cast<std::size_t>(produced.load()); },
      std::chrono::seconds(30)))
      << "jobs: " << store->list_jobs(all).size() << " of " << produced.load();
  last.signal(SIGTERM);
  EXPECT_EQ(last.wait_for(std::chrono::seconds(10)), 0);

  std::map<std::string, int> seen;
  for (const auto& job : store->list_jobs(all)) {
    auto from = job.url.find("id=") + 3;
    ++seen[job.url.substr(from, job.url.find('&', from) - from)];
  }
  int missing = 0, duplicated = 0;
  for (int i = 0; i < produced.load(); ++i) {
    auto it = seen.find("r" + std::to_string(i));
    if (it == seen.end()) {
      ++missing;
    } else if (it->second != 1) {
      ++duplicated;
    }
  }
  EXPECT_EQ(missing, 0);
  EXPECT_EQ(duplicated, 0);
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(produced.load()));
  auto polls = store->list_polls("default", 100000);
  std::cout << "crash test: " << kills << " SIGKILLs, " << produced.load() << " records, "
            << polls.size() << " polls committed\n";
}

}  // namespace
}  // namespace webhook::poller::testing
