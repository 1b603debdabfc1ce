#include "poller/feed_poller.h"

#include <gtest/gtest.h>

#include "tests/poller/poller_test_env.h"

namespace webhook::poller::testing {
namespace {

using Kind = FakeFailure::Kind;

TEST(FeedPoller, FirstPollOfANewFeedAsksOneIntervalBackAndMovesTheCursorToWhenItAsked) {
  PollerTestEnv env;
  env.start();
  int64_t t0 = env.clock().now_ms();
  std::string recent = env.add_work(30'000);
  env.add_work(120'000);  // before now - interval - overlap

  PollResult r = env.poller().poll();
  ASSERT_EQ(r.status, PollStatus::kOk) << r.record.error;
  EXPECT_EQ(r.record.window_from, t0 - 60'000 - 5'000);
  EXPECT_EQ(r.record.window_to, t0);
  EXPECT_EQ(env.store().cursor("default"), t0);
  auto requests = env.fake().requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_NE(requests[0].query.find("values:[\"" + std::to_string(t0 - 65'000) + "\"]"),
            std::string::npos)
      << requests[0].query;

  auto jobs = env.jobs();
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].url, "http://receiver.test/hook?id=" + recent + "&connector=Import");
  EXPECT_EQ(jobs[0].method, "GET");
  EXPECT_EQ(jobs[0].state, store::JobState::kPending);
  EXPECT_EQ(jobs[0].max_attempts, 4);  // WEBHOOK_UNSUCCESSFUL_RETRY_ATTEMPTS 3, plus the first
  auto polls = env.store().list_polls("default", 10);
  ASSERT_EQ(polls.size(), 1u);
  EXPECT_TRUE(polls[0].record.ok);
  EXPECT_EQ(polls[0].record.items_found, 1);
  EXPECT_EQ(polls[0].record.jobs_enqueued, 1);
}

// A new feed whose first tries fail (OpenCTI or the store down at start) still starts one
// interval before its first try: what was created while it could not poll is not skipped.
TEST(FeedPoller, ANewFeedWhoseFirstPollFailedStartsFromItsFirstTry) {
  PollerTestEnv env;
  env.start();
  int64_t t0 = env.clock().now_ms();
  std::string early = env.add_work(30'000);
  env.fake().fail_next(FakeFailure::of(Kind::kMalformedJson));
  ASSERT_EQ(env.poller().poll().status, PollStatus::kFailed);
  EXPECT_FALSE(env.store().cursor("default").has_value());

  env.clock().advance(600'000);  // ten minutes later, ten intervals past the first try
  PollResult r = env.poller().poll();
  ASSERT_EQ(r.status, PollStatus::kOk) << r.record.error;
  EXPECT_EQ(r.record.window_from, t0 - 60'000 - 5'000);
  auto jobs = env.jobs();
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].url, "http://receiver.test/hook?id=" + early + "&connector=Import");
}

TEST(FeedPoller, RendersMethodHeadersAndBodyIntoTheJob) {
  PollerTestEnv env(
      Overrides{{"WEBHOOK_METHOD", "POST"},
                {"WEBHOOK_HEADERS",
                 R"({"Content-Type": "application/json", "X-Work": "{item['node']['id']}"})"},
                {"WEBHOOK_BODY", "{json.dumps(item)}"},
                {"WEBHOOK_UNSUCCESSFUL_RETRY_ATTEMPTS", "0"}});
  env.start();
  std::string id = env.add_work(1000);
  PollResult r = env.poller().poll();
  ASSERT_TRUE(r.ok()) << r.record.error;
  auto jobs = env.jobs();
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].method, "POST");
  EXPECT_EQ(jobs[0].headers, (Json{{"Content-Type", "application/json"}, {"X-Work", id}}));
  EXPECT_EQ(Json::parse(jobs[0].body)["node"]["id"], id);
  EXPECT_EQ(jobs[0].max_attempts, 1);
}

TEST(FeedPoller, TheOrderKeyIsRenderedPerItemAndTheFeedsOrderSettingsReachTheStore) {
  PollerTestEnv env(Overrides{{"WEBHOOK_ORDER_KEY", "{item['node']['connector']['name']}"},
                              {"WEBHOOK_ORDER_ON_DEAD", "block"},
                              {"WEBHOOK_COALESCE", "true"}});
  env.start();
  env.fake().records().add(
      "works", Json{{"id", "keyless"},
                    {"connector", nullptr},
                    {"completed_time", FakeRecords::iso_time(env.clock().now_ms() - 500)}});
  env.add_work(2000);
  env.add_work(1000);  // the same connector: the later job supersedes the earlier one
  PollResult r = env.poller().poll();
  ASSERT_TRUE(r.ok()) << r.record.error;
  int pending = 0, superseded = 0, dead = 0;
  for (const auto& job : env.jobs()) {
    if (job.state == store::JobState::kDead) {
      ++dead;
      EXPECT_EQ(job.last_error,
                "WEBHOOK_ORDER_KEY: TypeError: 'NoneType' object is not subscriptable");
      EXPECT_EQ(job.order_key, std::nullopt);
      continue;
    }
    EXPECT_EQ(job.order_key, "Import");
    EXPECT_TRUE(job.dead_blocks_key);
    pending += job.state == store::JobState::kPending;
    superseded += job.state == store::JobState::kSuperseded;
  }
  EXPECT_EQ(dead, 1);
  EXPECT_EQ(pending, 1);
  EXPECT_EQ(superseded, 1);
}

TEST(FeedPoller, ItemsSeenInTheOverlapAreSkippedAndLateVisibleOnesAreEnqueuedOnce) {
  PollerTestEnv env;
  env.start();
  int64_t t0 = env.clock().now_ms();
  std::string early = env.add_work(3'000);  // in the next poll's overlap, visible now
  // Finished 2 s before the first poll but visible only 1 s after it (index refresh).
  std::string late = env.add_work(2'000, "Import", t0 + 1'000);
  ASSERT_TRUE(env.poller().poll().ok());
  EXPECT_EQ(env.job_ids_in_urls(), std::vector<std::string>{early});

  env.clock().advance(60'000);
  std::string fresh = env.add_work(10'000);
  PollResult second = env.poller().poll();
  ASSERT_TRUE(second.ok()) << second.record.error;
  EXPECT_EQ(second.record.window_from, t0 - 5'000);
  EXPECT_EQ(second.record.items_found, 3);  // early again, late, fresh
  EXPECT_EQ(second.record.duplicates_skipped, 1);
  EXPECT_EQ(second.record.jobs_enqueued, 2);

  env.clock().advance(60'000);
  ASSERT_TRUE(env.poller().poll().ok());
  std::vector<std::string> expected = {early, late, fresh};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(env.job_ids_in_urls(), expected);
}

TEST(FeedPoller, WithoutOverlapTheWindowIsThePythonConnectorsAndALateRecordIsMissed) {
  PollerTestEnv env(Overrides{{"WEBHOOK_POLL_OVERLAP", "0"}});
  env.start();
  int64_t t0 = env.clock().now_ms();
  env.add_work(2'000, "Import", t0 + 1'000);
  ASSERT_TRUE(env.poller().poll().ok());
  env.clock().advance(60'000);
  PollResult second = env.poller().poll();
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second.record.window_from, t0);
  EXPECT_TRUE(env.jobs().empty());
}

TEST(FeedPoller, IgnoreDuplicatesDropsIdenticalRequestsWithinOnePoll) {
  for (bool ignore : {false, true}) {
    PollerTestEnv env(
        Overrides{{"WEBHOOK_URL", "http://r.test/?c={item['node']['connector']['name']}"},
                  {"WEBHOOK_IGNORE_DUPLICATES", ignore ? "true" : "false"}});
    env.start();
    for (const char* c : {"A", "A", "B", "A"}) env.add_work(1000, c);
    PollResult r = env.poller().poll();
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.record.items_found, 4);
    EXPECT_EQ(r.record.jobs_enqueued, ignore ? 2 : 4);
    EXPECT_EQ(r.record.duplicates_skipped, ignore ? 2 : 0);
    EXPECT_EQ(env.jobs().size(), ignore ? 2u : 4u);
  }
}

TEST(FeedPoller, AnItemThatCannotBeRenderedBecomesADeadJobAndThePollGoesOn) {
  PollerTestEnv env(Overrides{{"WEBHOOK_URL", "{item['node']['connector']['name']}"}});
  env.start();
  env.fake().records().add(
      "works", Json{{"id", "broken"},
                    {"connector", nullptr},
                    {"completed_time", FakeRecords::iso_time(env.clock().now_ms() - 500)}});
  env.add_work(1000, "http://receiver.test/ok");
  env.add_work(1000, "not a url");
  PollResult r = env.poller().poll();
  ASSERT_TRUE(r.ok()) << r.record.error;
  EXPECT_EQ(r.record.items_found, 3);
  EXPECT_EQ(r.record.jobs_enqueued, 1);
  EXPECT_EQ(r.record.render_errors, 2);
  int dead = 0;
  for (const auto& job : env.jobs()) {
    if (job.state != store::JobState::kDead) {
      EXPECT_EQ(job.url, "http://receiver.test/ok");
      continue;
    }
    ++dead;
    Json item = Json::parse(job.body);  // the item itself, to see what failed
    if (item["node"]["id"] == "broken") {
      EXPECT_EQ(job.last_error, "WEBHOOK_URL: TypeError: 'NoneType' object is not subscriptable");
    } else {
      EXPECT_NE(job.last_error.find("not a valid absolute URL"), std::string::npos)
          << job.last_error;
    }
  }
  EXPECT_EQ(dead, 2);
}

TEST(FeedPoller, PagesAreFollowedAndCommittedTogether) {
  PollerTestEnv env(Overrides{
      {"WEBHOOK_GRAPHQL_QUERY",
       "query ($after: ID) {{ works(first: 3, after: $after, filters: {{mode: and, filters: "
       "[{{key: \"completed_time\", operator: gt, values: [\"LAST_POLL_TIME\"]}}], "
       "filterGroups: []}}) {{ edges {{ node {{ id connector {{ name }} }} }} pageInfo {{ "
       "endCursor hasNextPage }} }} }}"},
      {"WEBHOOK_GRAPHQL_PAGE_INFO_LOCATION", "['data']['works']['pageInfo']"}});
  env.start();
  std::vector<std::string> ids;
  for (int i = 0; i < 10; ++i) ids.push_back(env.add_work(1000 + i));
  std::sort(ids.begin(), ids.end());
  PollResult r = env.poller().poll();
  ASSERT_TRUE(r.ok()) << r.record.error;
  EXPECT_EQ(r.pages, 4);
  EXPECT_EQ(r.record.items_found, 10);
  EXPECT_EQ(env.job_ids_in_urls(), ids);
  EXPECT_EQ(env.store().list_polls("default", 10).size(), 1u);
  auto requests = env.fake().requests();
  ASSERT_EQ(requests.size(), 4u);
  EXPECT_EQ(requests[0].variables, (Json{{"after", nullptr}}));
  for (std::size_t i = 1; i < requests.size(); ++i) {
    Json previous = Json::parse(requests[i - 1].response);
    EXPECT_EQ(requests[i].variables["after"], previous["data"]["works"]["pageInfo"]["endCursor"]);
  }
}

TEST(FeedPoller, AFailedPageFailsThePollAndNothingOfItIsWritten) {
  PollerTestEnv env(Overrides{
      {"WEBHOOK_GRAPHQL_QUERY",
       "query ($after: ID) {{ works(first: 2, after: $after) {{ edges {{ node {{ id connector "
       "{{ name }} }} }} pageInfo {{ endCursor hasNextPage }} }} }}"},
      {"WEBHOOK_GRAPHQL_PAGE_INFO_LOCATION", "['data']['works']['pageInfo']"},
      {"WEBHOOK_GRAPHQL_MAX_PAGES", "3"}});
  env.start();
  for (int i = 0; i < 9; ++i) env.add_work(1000);
  // Page 1 answers, page 2 fails: the whole poll fails.
  struct : public GraphqlEndpoint {
    GraphqlEndpoint* inner = nullptr;
    int calls = 0;
    GraphqlResponse execute(std::string_view q, const Json& v, const CancelFn& c) override {
      if (++calls == 2) return GraphqlResponse{{}, 502, "", "HTTP 502 from OpenCTI", false};
      return inner->execute(q, v, c);
    }
  } flaky;
  GraphqlClient client(GraphqlOptions::from_config(env.config()));
  flaky.inner = &client;
  FeedPoller poller(env.poller().feed(), flaky, &env.store(), env.clock());
  PollResult failed = poller.poll();
  EXPECT_EQ(failed.status, PollStatus::kFailed);
  EXPECT_EQ(failed.record.error, "page 2: HTTP 502 from OpenCTI");
  EXPECT_TRUE(env.jobs().empty());
  EXPECT_FALSE(env.store().cursor("default").has_value());

  // WEBHOOK_GRAPHQL_MAX_PAGES stops after 3 pages of 2.
  PollResult capped = env.poller().poll();
  ASSERT_TRUE(capped.ok()) << capped.record.error;
  EXPECT_EQ(capped.pages, 3);
  EXPECT_EQ(env.jobs().size(), 6u);
}

struct FailureCase {
  const char* name;
  std::function<void(PollerTestEnv&)> inject;
  std::function<void(PollerTestEnv&)> repair;
  const char* reason;
};

TEST(FeedPoller, AFailedPollIsRecordedKeepsTheCursorAndTheNextGoodPollCatchesUp) {
  auto fail = [](FakeFailure f) { return [f](PollerTestEnv& env) { env.fake().fail_next(f); }; };
  auto nothing = [](PollerTestEnv&) {};
  FakeFailure unauthorized = FakeFailure::bad_request("AUTH_REQUIRED", "You must be logged in");
  unauthorized.status = 401;
  const FailureCase cases[] = {
      {"down", [](PollerTestEnv& env) { env.fake().stop(); },
       [](PollerTestEnv& env) { env.fake().start(); }, "cannot get an answer from OpenCTI"},
      {"401", fail(unauthorized), nothing, "HTTP 401: AUTH_REQUIRED: You must be logged in"},
      {"400 errors", fail(FakeFailure::bad_request("GRAPHQL_VALIDATION_FAILED", "Unknown field")),
       nothing, "HTTP 400: GRAPHQL_VALIDATION_FAILED: Unknown field"},
      {"200 errors", fail(FakeFailure::graphql_errors("FORBIDDEN_ACCESS", "Not allowed")), nothing,
       "FORBIDDEN_ACCESS: Not allowed"},
      {"502", fail(FakeFailure::http_status(502)), nothing, "HTTP 502"},
      {"not JSON", fail(FakeFailure::of(Kind::kMalformedJson)), nothing, "not JSON"},
      {"empty", fail(FakeFailure::of(Kind::kEmptyBody)), nothing, "empty body"},
      {"truncated JSON", fail(FakeFailure::of(Kind::kTruncatedJson)), nothing, "not JSON"},
      {"truncated transfer", fail(FakeFailure::of(Kind::kTruncatedTransfer)), nothing,
       "cannot get an answer"},
      {"oversized", fail(FakeFailure::huge(100'000)), nothing,
       "WEBHOOK_GRAPHQL_MAX_RESPONSE_BYTES"},
      {"timeout", fail(FakeFailure::stalled(std::chrono::seconds(10))),
       [](PollerTestEnv& env) { env.fake().release_stalls(); }, "WEBHOOK_GRAPHQL_TIMEOUT"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    PollerTestEnv env(Overrides{{"WEBHOOK_GRAPHQL_MAX_RESPONSE_BYTES", "8192"}});
    env.start();
    ASSERT_TRUE(env.poller().poll().ok());
    int64_t cursor = env.clock().now_ms();
    env.clock().advance(60'000);
    std::string missed = env.add_work(30'000);

    c.inject(env);
    PollResult failed = env.poller().poll();
    c.repair(env);
    EXPECT_EQ(failed.status, PollStatus::kFailed);
    EXPECT_NE(failed.record.error.find(c.reason), std::string::npos) << failed.record.error;
    EXPECT_EQ(env.store().cursor("default"), cursor);
    EXPECT_TRUE(env.jobs().empty());
    auto polls = env.store().list_polls("default", 10);
    ASSERT_EQ(polls.size(), 2u);
    const auto& row = polls[0].id > polls[1].id ? polls[0] : polls[1];
    EXPECT_FALSE(row.record.ok);
    EXPECT_EQ(row.record.error, failed.record.error);
    EXPECT_EQ(row.record.error.find(env.fake().token()), std::string::npos);

    env.clock().advance(5'000);
    PollResult good = env.poller().poll();
    ASSERT_TRUE(good.ok()) << good.record.error;
    EXPECT_EQ(good.record.window_from, cursor - 5'000);
    EXPECT_EQ(env.job_ids_in_urls(), std::vector<std::string>{missed});
  }
}

// Moves the cursor back while a poll is in flight, as `webhookctl rewind` would.
struct RewindingEndpoint : GraphqlEndpoint {
  GraphqlEndpoint& inner;
  store::JobStore& store;
  int64_t to;
  RewindingEndpoint(GraphqlEndpoint& i, store::JobStore& s, int64_t t)
      : inner(i), store(s), to(t) {}
  GraphqlResponse execute(std::string_view q, const Json& v, const CancelFn& c) override {
    store.rewind("default", to);
    return inner.execute(q, v, c);
  }
};

TEST(FeedPoller, ARewindDuringAPollWinsAndTheWindowIsAskedAgainWithoutDedup) {
  PollerTestEnv env;
  env.start();
  std::string a = env.add_work(10'000);
  ASSERT_TRUE(env.poller().poll().ok());
  int64_t t0 = env.clock().now_ms();
  env.clock().advance(60'000);

  GraphqlClient client(GraphqlOptions::from_config(env.config()));
  RewindingEndpoint rewinding(client, env.store(), t0 - 20'000);
  FeedPoller poller(env.poller().feed(), rewinding, &env.store(), env.clock());
  PollResult conflict = poller.poll();
  EXPECT_EQ(conflict.status, PollStatus::kConflict);
  EXPECT_EQ(env.store().cursor("default"), t0 - 20'000);

  PollResult replay = env.poller().poll();
  ASSERT_TRUE(replay.ok()) << replay.record.error;
  EXPECT_EQ(replay.record.window_from, t0 - 25'000);
  EXPECT_EQ(env.job_ids_in_urls(), (std::vector<std::string>{a, a}));
}

TEST(FeedPoller, ACursorAheadOfTheClockIsNeverMovedBack) {
  PollerTestEnv env;
  env.start();
  int64_t ahead = env.clock().now_ms() + 30'000;
  env.store().rewind("default", ahead);
  PollResult r = env.poller().poll();
  ASSERT_TRUE(r.ok()) << r.record.error;
  EXPECT_EQ(r.record.window_to, ahead);
  EXPECT_EQ(env.store().cursor("default"), ahead);
}

TEST(FeedPoller, ADryRunWritesNothing) {
  PollerTestEnv env;
  env.start();
  env.add_work(1000);
  PollResult r = env.poller().poll({}, /*commit=*/false);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.jobs.size(), 1u);
  EXPECT_FALSE(r.poll_id.has_value());
  EXPECT_TRUE(r.first_answer.contains("data"));
  EXPECT_TRUE(env.jobs().empty());
  EXPECT_FALSE(env.store().cursor("default").has_value());
}

}  // namespace
}  // namespace webhook::poller::testing
