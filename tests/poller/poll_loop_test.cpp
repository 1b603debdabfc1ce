#include "poller/poll_loop.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "tests/poller/poller_test_env.h"

namespace webhook::poller::testing {
namespace {

// Sleeps by moving the ManualClock, and stops after `turns` waits.
class ClockStopToken final : public StopToken {
 public:
  ClockStopToken(ManualClock& clock, int turns) : clock_(clock), turns_(turns) {}
  bool stop_requested() const override { return stopped_; }
  bool wait_for(std::chrono::milliseconds timeout) override {
    waits_.push_back(timeout.count());
    clock_.advance(timeout.count());
    if (static_cast<int>(waits_.size()) >= turns_) stopped_ = true;
    return stopped_;
  }
  const std::vector<int64_t>& waits() const { return waits_; }

 private:
  ManualClock& clock_;
  int turns_;
  bool stopped_ = false;
  std::vector<int64_t> waits_;
};

// Wraps the real client: records when each request started (on the ManualClock), takes
// `duration` of clock time, and fails while `failing` is set.
class ObservedEndpoint final : public GraphqlEndpoint {
 public:
  ObservedEndpoint(GraphqlEndpoint& inner, ManualClock& clock) : inner_(inner), clock_(clock) {}
  GraphqlResponse execute(std::string_view q, const Json& v, const CancelFn& c) override {
    starts.push_back(clock_.now_ms());
    clock_.advance(duration);
    if (failing) return GraphqlResponse{{}, 0, "", "injected failure", false};
    return inner_.execute(q, v, c);
  }
  std::vector<int64_t> starts;
  int64_t duration = 0;
  bool failing = false;

 private:
  GraphqlEndpoint& inner_;
  ManualClock& clock_;
};

TEST(PollLoop, PollsAreSpacedByTheIntervalFromTheStartOfThePreviousPoll) {
  PollerTestEnv env;
  env.start();
  GraphqlClient client(GraphqlOptions::from_config(env.config()));
  ObservedEndpoint endpoint(client, env.clock());
  endpoint.duration = 10'000;  // each poll takes 10 s
  std::vector<std::unique_ptr<FeedPoller>> feeds;
  feeds.push_back(
      std::make_unique<FeedPoller>(env.poller().feed(), endpoint, &env.store(), env.clock()));
  ClockStopToken stop(env.clock(), 3);
  int64_t t0 = env.clock().now_ms();
  PollLoop loop(std::move(feeds), env.clock(), stop, &env.store());
  loop.run();
  EXPECT_EQ(endpoint.starts, (std::vector<int64_t>{t0, t0 + 60'000, t0 + 120'000}));
  EXPECT_EQ(stop.waits(), (std::vector<int64_t>{50'000, 50'000, 50'000}));
  EXPECT_EQ(env.store().list_polls("default", 10).size(), 3u);
}

TEST(PollLoop, FailedPollsAreRetriedWithExponentialBackoffUpToTheInterval) {
  PollerTestEnv env(Overrides{{"WEBHOOK_GRAPHQL_POLLING_INTERVAL", "20"}});
  env.start();
  GraphqlClient client(GraphqlOptions::from_config(env.config()));
  ObservedEndpoint endpoint(client, env.clock());
  endpoint.failing = true;
  std::vector<std::unique_ptr<FeedPoller>> feeds;
  feeds.push_back(
      std::make_unique<FeedPoller>(env.poller().feed(), endpoint, &env.store(), env.clock()));
  ClockStopToken stop(env.clock(), 7);
  PollLoop loop(std::move(feeds), env.clock(), stop, &env.store());
  loop.run();
  EXPECT_EQ(stop.waits(),
            (std::vector<int64_t>{1'000, 2'000, 4'000, 8'000, 16'000, 20'000, 20'000}));
  auto polls = env.store().list_polls("default", 100);
  EXPECT_EQ(polls.size(), 7u);
  for (const auto& p : polls) EXPECT_EQ(p.record.error, "injected failure");
  EXPECT_FALSE(env.store().cursor("default").has_value());

  // A success resets the backoff.
  endpoint.failing = false;
  ClockStopToken again(env.clock(), 1);
  std::vector<std::unique_ptr<FeedPoller>> feeds2;
  feeds2.push_back(
      std::make_unique<FeedPoller>(env.poller().feed(), endpoint, &env.store(), env.clock()));
  PollLoop loop2(std::move(feeds2), env.clock(), again, &env.store());
  loop2.run();
  EXPECT_EQ(again.waits(), std::vector<int64_t>{20'000});
  EXPECT_TRUE(env.store().cursor("default").has_value());
}

TEST(PollLoop, BackoffDoublesFromOneSecondAndStopsAtTheInterval) {
  using std::chrono::milliseconds;
  EXPECT_EQ(PollLoop::backoff(1, milliseconds(60'000)), milliseconds(1'000));
  EXPECT_EQ(PollLoop::backoff(6, milliseconds(60'000)), milliseconds(32'000));
  EXPECT_EQ(PollLoop::backoff(7, milliseconds(60'000)), milliseconds(60'000));
  EXPECT_EQ(PollLoop::backoff(500, milliseconds(60'000)), milliseconds(60'000));
  EXPECT_EQ(PollLoop::backoff(1, milliseconds(100)), milliseconds(100));
}

TEST(PollLoop, FeedsPollIndependentlyWithTheirOwnCursorAndInterval) {
  PollerTestEnv env;
  env.start(R"(
feeds:
  - name: works
    graphql_polling_interval: 10
    graphql_query: '{{works(filters:{{mode:and,filters:[{{key:"completed_time",operator:gt,values:["LAST_POLL_TIME"]}}],filterGroups:[]}}){{edges{{node{{id}}}}}}}}'
    graphql_returned_data_location: "['data']['works']['edges']"
    url: "http://receiver.test/works?id={item['node']['id']}"
  - name: users
    graphql_polling_interval: 25
    graphql_query: '{{users(filters:[{{key:created_at,operator:"gt",values:["LAST_POLL_TIME"]}}]){{edges{{node{{id user_email}}}}}}}}'
    graphql_returned_data_location: "['data']['users']['edges']"
    url: "http://receiver.test/users?email={item['node']['user_email']}"
    method: POST
)");
  int64_t t0 = env.clock().now_ms();
  env.add_work(1000);
  env.fake().records().add("users", FakeRecords::user("u1", "new@example.org", t0 - 500));
  ClockStopToken stop(env.clock(), 5);
  PollLoop loop(std::move(env.pollers()), env.clock(), stop, &env.store());
  loop.run();
  // works at 0, 10, 20, 30 s; users at 0, 25 s (the loop wakes for whichever is next).
  EXPECT_EQ(stop.waits(), (std::vector<int64_t>{10'000, 10'000, 5'000, 5'000, 10'000}));
  EXPECT_EQ(env.store().list_polls("works", 100).size(), 4u);
  EXPECT_EQ(env.store().list_polls("users", 100).size(), 2u);
  EXPECT_EQ(env.store().cursor("works"), t0 + 30'000);
  EXPECT_EQ(env.store().cursor("users"), t0 + 25'000);
  auto users = env.jobs("users");
  ASSERT_EQ(users.size(), 1u);
  EXPECT_EQ(users[0].method, "POST");
  EXPECT_EQ(users[0].url, "http://receiver.test/users?email=new@example.org");
  EXPECT_EQ(env.jobs("works").size(), 1u);
}

class FlagStopToken final : public StopToken {
 public:
  bool stop_requested() const override { return stop; }
  bool wait_for(std::chrono::milliseconds) override { return stop; }
  std::atomic<bool> stop{false};
};

TEST(PollLoop, AStopDuringARequestAbandonsThePollWhole) {
  PollerTestEnv env(Overrides{{"WEBHOOK_GRAPHQL_TIMEOUT", "30"}});
  env.start();
  env.add_work(1000);
  env.fake().fail_next(FakeFailure::stalled(std::chrono::seconds(30)));
  FlagStopToken stop;
  std::thread stopper([&] {
    while (env.fake().request_count() == 0) std::this_thread::yield();
    stop.stop = true;
  });
  PollLoop loop(std::move(env.pollers()), env.clock(), stop, &env.store());
  EXPECT_FALSE(loop.run_once());
  stopper.join();
  env.fake().release_stalls();
  EXPECT_TRUE(env.store().list_polls("default", 10).empty());
  EXPECT_FALSE(env.store().cursor("default").has_value());
  EXPECT_TRUE(env.jobs().empty());
}

}  // namespace
}  // namespace webhook::poller::testing
