// The stream client and the stream feed against a fake OpenCTI stream on a real loopback
// socket, writing to a real SQLite file: headers and resume ids, cuts part-way through an
// event, 401/503, silence, heartbeats, the exactly-once enqueue across reconnections.
#include "poller/stream_feed.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "common/config.h"
#include "common/metrics_registry.h"
#include "common/process_metrics.h"
#include "common/store/open_store.h"
#include "poller/compiled_feed.h"
#include "poller/metrics_listener.h"
#include "poller/stream_client.h"
#include "tests/support/fake_stream.h"
#include "tests/support/store_fixtures.h"
#include "tests/support/temp_dir.h"

namespace webhook::poller {
namespace {

using webhook::testing::FakeStream;
using webhook::testing::FakeStreamOptions;
using Json = nlohmann::ordered_json;
using namespace std::chrono_literals;

class Collect final : public StreamHandler {
 public:
  bool on_event(SseEvent&& e) override {
    events.push_back(std::move(e));
    return stop_after == 0 || static_cast<int>(events.size()) < stop_after;
  }
  std::vector<SseEvent> events;
  int stop_after = 0;
};

StreamOptions client_options(const FakeStream& fake) {
  StreamOptions o;
  o.url = fake.url();
  o.token = fake.options().token;
  o.watchdog = 2s;
  return o;
}

TEST(StreamClient, SendsPyctiHeadersAndResumesAfterLastEventId) {
  FakeStream fake;
  fake.append(6);
  StreamOptions o = client_options(fake);
  o.with_inferences = true;
  o.custom_headers = {{"X-Proxy", "yes"}};
  StreamClient client(o);
  Collect c;
  c.stop_after = 1 + 3;  // connected, then three events
  auto events = fake.events();
  StreamConnection r = client.run("live-webhook", events[1].id, "", c);
  EXPECT_EQ(r.end, StreamEnd::kStopped);
  EXPECT_EQ(r.http_status, 200);
  ASSERT_EQ(c.events.size(), 4u);
  EXPECT_EQ(c.events[0].type, "connected");
  EXPECT_FALSE(c.events[0].has_id);
  EXPECT_EQ(c.events[1].last_event_id, events[2].id);
  EXPECT_EQ(c.events[1].type, events[2].type);
  EXPECT_EQ(c.events[1].data, events[2].data);
  auto requests = fake.requests();
  ASSERT_EQ(requests.size(), 1u);
  auto& h = requests[0].headers;
  EXPECT_EQ(requests[0].target, "/stream/live-webhook");
  EXPECT_EQ(h["authorization"], "Bearer " + fake.options().token);
  EXPECT_EQ(h["last-event-id"], events[1].id);
  EXPECT_EQ(h["listen-delete"], "true");
  EXPECT_EQ(h["no-dependencies"], "true");
  EXPECT_EQ(h["with-inferences"], "true");
  EXPECT_EQ(h["accept"], "text/event-stream");
  EXPECT_EQ(h["x-proxy"], "yes");
}

TEST(StreamClient, PassesRecoverAsAParameter) {
  FakeStream fake;
  StreamClient client(client_options(fake));
  Collect c;
  c.stop_after = 1;
  client.run("live-webhook", "0-0", "2026-11-30T00:00:00Z", c);
  ASSERT_EQ(fake.requests().size(), 1u);
  EXPECT_EQ(fake.requests()[0].target, "/stream/live-webhook?recover=2026-11-30T00%3A00%3A00Z");
}

TEST(StreamClient, SaysWhenTheConnectionIsCutPartWayThroughAnEvent) {
  FakeStreamOptions fo;
  fo.cut_after_max = 1;  // every connection: one whole event, then half of the next
  FakeStream fake(fo);
  fake.append(5);
  StreamClient client(client_options(fake));
  Collect c;
  StreamConnection r = client.run("live-webhook", "0-0", "", c);
  EXPECT_EQ(r.end, StreamEnd::kCutMidEvent) << describe(r);
  ASSERT_EQ(c.events.size(), 2u);  // connected and the one whole event
  EXPECT_EQ(c.events[1].last_event_id, fake.events()[0].id);
  EXPECT_EQ(describe(r), "cut part-way through an event");
}

TEST(StreamClient, ReportsRefusedAndFailingStreamsWithTheirStatus) {
  FakeStream fake;
  StreamOptions o = client_options(fake);
  o.token = "wrong-token-1234";
  StreamClient refused(o);
  Collect c;
  StreamConnection r = refused.run("live-webhook", "0-0", "", c);
  EXPECT_EQ(r.end, StreamEnd::kHttpStatus);
  EXPECT_EQ(r.http_status, 401);
  EXPECT_NE(r.error.find("HTTP 401"), std::string::npos) << r.error;
  EXPECT_EQ(r.error.find("wrong-token-1234"), std::string::npos);
  EXPECT_TRUE(c.events.empty());

  fake.fail_next(503);
  StreamClient client(client_options(fake));
  r = client.run("live-webhook", "0-0", "", c);
  EXPECT_EQ(r.http_status, 503);
  EXPECT_EQ(r.end, StreamEnd::kHttpStatus);
  fake.fail_next(410);
  r = client.run("live-webhook", "0-0", "", c);
  EXPECT_NE(r.error.find("stopped"), std::string::npos) << r.error;
}

TEST(StreamClient, EndsASilentConnectionAfterTheWatchdog) {
  FakeStream fake;
  fake.set_silent(true);
  StreamOptions o = client_options(fake);
  o.watchdog = 300ms;
  StreamClient client(o);
  Collect c;
  StreamConnection r = client.run("live-webhook", "0-0", "", c);
  EXPECT_EQ(r.end, StreamEnd::kSilent);
  EXPECT_NE(r.error.find("watchdog"), std::string::npos);
}

TEST(StreamClient, ReportsARefusedConnection) {
  StreamOptions o;
  o.url = "http://127.0.0.1:1";
  o.token = "t";
  StreamClient client(o);
  Collect c;
  StreamConnection r = client.run("live-webhook", "0-0", "", c);
  EXPECT_EQ(r.end, StreamEnd::kTransport);
  EXPECT_NE(r.error.find("cannot connect"), std::string::npos) << r.error;
}

// A stream feed on real parts: settings loaded as the poller loads them, a SQLite store.
class StreamFeedEnv {
 public:
  explicit StreamFeedEnv(FakeStream& fake, std::map<std::string, std::string> extra = {})
      : fake_(fake) {
    Environment env = {{"OPENCTI_URL", fake.url()},
                       {"OPENCTI_TOKEN", fake.options().token},
                       {"CONNECTOR_LIVE_STREAM_ID", fake.options().stream_id},
                       {"WEBHOOK_URL", "http://receiver.test/hook"},
                       {"WEBHOOK_STREAM_BATCH_TIME", "0.05"},
                       {"WEBHOOK_STREAM_WATCHDOG", "2"},
                       {"WEBHOOK_DATABASE_PATH", dir_.file("w.db")}};
    for (auto& [k, v] : extra) env[k] = v;
    config_.emplace(Config::load(kPoller, env, std::nullopt));
    feeds_ = compile_feeds(config_->feeds());
    client_ = std::make_unique<StreamClient>(StreamOptions::from_config(*config_));
    feed_store_ = webhook::testing::open_test_store(dir_.file("w.db"));
    store_ = webhook::testing::open_test_store(dir_.file("w.db"));
    options_ = StreamFeedOptions::from_config(*config_);
  }
  StreamFeed feed() { return StreamFeed(feeds_.at(0), *client_, *feed_store_, clock_, options_); }
  // A connection of its own, as an operator's: the feed's is its committer's while it
  // commits, and the tests read the store from the feed's cancel function.
  store::JobStore& store() { return *store_; }
  StreamFeedOptions& options() { return options_; }
  const CompiledFeed& compiled() const { return feeds_.at(0); }
  std::vector<store::JobRow> jobs() {
    store::JobFilter f;
    f.limit = 1'000'000;
    auto rows = store_->list_jobs(f);
    std::reverse(rows.begin(), rows.end());
    return rows;
  }

 private:
  FakeStream& fake_;
  webhook::testing::TempDir dir_;
  std::optional<Config> config_;
  std::vector<CompiledFeed> feeds_;
  std::unique_ptr<StreamClient> client_;
  std::unique_ptr<store::JobStore> feed_store_;
  std::unique_ptr<store::JobStore> store_;
  SystemClock clock_;
  StreamFeedOptions options_;
};

TEST(StreamFeed, PostsEachEventsDataByteForByteAndStoresTheCursorWithTheJobs) {
  FakeStream fake;
  fake.append(7);
  StreamFeedEnv env(fake);
  EXPECT_EQ(env.compiled().config.source, FeedSource::kStream);
  StreamFeed feed = env.feed();
  int cancel_after_heartbeats = 0;
  StreamConnection r = feed.connect_once([&] {
    // Stop once the cursor reached the last event (heartbeats keep the connection busy).
    return env.store().stream_cursor("default") == fake.events().back().id ||
           ++cancel_after_heartbeats > 200;
  });
  EXPECT_EQ(r.end, StreamEnd::kCancelled);
  auto jobs = env.jobs();
  auto events = fake.events();
  ASSERT_EQ(jobs.size(), events.size());
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    EXPECT_EQ(jobs[i].body, events[i].data) << i;
    EXPECT_EQ(jobs[i].method, "POST");
    EXPECT_EQ(jobs[i].url, "http://receiver.test/hook");
    EXPECT_EQ(jobs[i].headers,
              (Json{{"Content-Type", "application/json"}, {"Accept", "application/json"}}));
    EXPECT_EQ(jobs[i].poll_id, 0);
  }
  auto connections = env.store().list_stream_connections("default", 10);
  ASSERT_EQ(connections.size(), 1u);
  EXPECT_EQ(connections[0].from_id, "0-0");
  EXPECT_EQ(connections[0].events, 7);
  EXPECT_EQ(connections[0].jobs_enqueued, 7);
  EXPECT_EQ(connections[0].end_reason, "shutting down");
  EXPECT_EQ(connections[0].http_status, 200);
}

TEST(StreamFeed, EnqueuesEveryEventExactlyOnceAcrossCutsAndReconnections) {
  FakeStreamOptions fo;
  fo.cut_after_max = 40;
  fo.seed = 7;
  FakeStream fake(fo);
  fake.append(1000);
  StreamFeedEnv env(fake, {{"WEBHOOK_STREAM_BATCH_SIZE", "17"}});
  StreamFeed feed = env.feed();
  const std::string last = fake.events().back().id;
  auto done = [&] { return env.store().stream_cursor("default") == last; };
  for (int i = 0; i < 500 && !done(); ++i) feed.connect_once(done);
  ASSERT_EQ(env.store().stream_cursor("default"), last);
  auto jobs = env.jobs();
  auto events = fake.events();
  ASSERT_EQ(jobs.size(), events.size());
  for (std::size_t i = 0; i < jobs.size(); ++i) ASSERT_EQ(jobs[i].body, events[i].data) << i;
  // Every reconnection resumed after the id stored with the last committed batch.
  auto requests = fake.requests();
  ASSERT_GT(requests.size(), 10u);
  auto connections = env.store().list_stream_connections("default", 1000);
  ASSERT_EQ(connections.size(), requests.size());
  for (std::size_t i = 1; i < requests.size(); ++i) {
    const auto& previous = connections[connections.size() - i];  // newest first
    if (requests[i - 1].status != 200) continue;
    EXPECT_EQ(requests[i].headers.at("last-event-id"),
              previous.last_id.empty() ? previous.from_id : previous.last_id);
  }
}

TEST(StreamFeed, HeartbeatsMoveTheCursorWhileNothingElseHappens) {
  FakeStream fake;
  fake.append(webhook::testing::FakeStreamEvent{"1700000000000-0", "create",
                                                FakeStream::event_data(0, "create")});
  StreamFeedEnv env(fake, {{"CONNECTOR_LIVE_STREAM_START_TIMESTAMP", "1800000000000"}});
  StreamFeed feed = env.feed();
  EXPECT_EQ(feed.start().from_id, "1800000000000-0");
  EXPECT_EQ(feed.start().reason, "CONNECTOR_LIVE_STREAM_START_TIMESTAMP");
  int turns = 0;
  feed.connect_once(
      [&] { return env.store().stream_cursor("default").has_value() || ++turns > 300; });
  // The event is before the start: nothing enqueued, but the heartbeat's id is stored.
  EXPECT_EQ(env.store().stream_cursor("default"), "1800000000000-0");
  EXPECT_TRUE(env.jobs().empty());
  EXPECT_GE(env.store().list_stream_connections("default", 1)[0].heartbeats, 1);
  EXPECT_EQ(feed.start().reason, "the feed's stored cursor");
}

TEST(StreamFeed, WithTheDefaultsDataIsCheckedAsJsonReadsItWithoutBeingBuilt) {
  // The default templates never read the event, so its data is only checked (JsonCheck);
  // what that check cannot vouch for is read as before: still enqueued when read_json
  // reads it (a lone surrogate), a dead job saying why when it is not JSON.
  FakeStream fake;
  fake.append(webhook::testing::FakeStreamEvent{"1700000000000-0", "create",
                                                FakeStream::event_data(0, "create")});
  fake.append(webhook::testing::FakeStreamEvent{"1700000000000-1", "update",
                                                R"({"type":"update","data":{"x":"\ud800"}})"});
  fake.append(webhook::testing::FakeStreamEvent{"1700000000001-0", "create", "{not json"});
  StreamFeedEnv env(fake);
  ASSERT_FALSE(env.compiled().renderer.needs_item());
  StreamFeed feed = env.feed();
  int turns = 0;
  feed.connect_once(
      [&] { return env.store().stream_cursor("default") == "1700000000001-0" || ++turns > 300; });
  auto jobs = env.jobs();
  auto events = fake.events();
  ASSERT_EQ(jobs.size(), 3u);
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(jobs[i].state, store::JobState::kPending) << i;
    EXPECT_EQ(jobs[i].body, events[i].data) << i;
    EXPECT_EQ(jobs[i].url, "http://receiver.test/hook");
    EXPECT_EQ(jobs[i].headers,
              (Json{{"Content-Type", "application/json"}, {"Accept", "application/json"}}));
  }
  EXPECT_NE(jobs[0].id, jobs[1].id);
  EXPECT_EQ(jobs[2].state, store::JobState::kDead);
  EXPECT_NE(jobs[2].last_error.find("the event's data is not JSON"), std::string::npos)
      << jobs[2].last_error;
  EXPECT_EQ(jobs[2].body, "{not json");
  // A template that reads the event needs it built.
  StreamFeedEnv templated(fake, {{"WEBHOOK_URL", "http://receiver.test/{event_type}"}});
  EXPECT_TRUE(templated.compiled().renderer.needs_item());
}

TEST(StreamFeed, ReportsItsConnectionEventsReconnectionsAndLagToTheMetrics) {
  FakeStream fake;
  fake.append(9);  // create, update, delete three times
  StreamFeedEnv env(fake, {{"WEBHOOK_STREAM_EVENTS", "create,update"}});
  metrics::MetricsRegistry registry;
  metrics::PollerMetrics pm(registry);
  SystemClock clock;
  MetricsListener listener(pm, clock, {});
  StreamFeed feed = env.feed();
  feed.add_listener(&listener);
  const std::string last = fake.events().back().id;
  double connected_while_open = -1;
  int turns = 0;
  feed.connect_once([&] {
    if (env.store().stream_cursor("default") != last ||
        registry.render().find("webhook_stream_last_message_age_seconds{feed=\"default\"}") ==
            std::string::npos) {
      return ++turns > 600;
    }
    connected_while_open = pm.stream_connected.with({"default"}).value();
    return true;
  });
  EXPECT_EQ(connected_while_open, 1);
  EXPECT_EQ(pm.stream_events_received.with({"default"}).value(), 9);
  EXPECT_EQ(pm.stream_events_enqueued.with({"default"}).value(), 6);
  EXPECT_EQ(pm.stream_events_filtered.with({"default"}).value(), 3);
  EXPECT_EQ(pm.jobs_enqueued.with({"default"}).value(), 6);
  // The cursor's id holds the platform's time of the event: now minus that is the lag.
  listener.on_turn(clock.now_ms());
  const double ms = std::stod(last.substr(0, last.find('-')));
  const double lag = pm.stream_cursor_lag.with({"default"}).value();
  EXPECT_GE(lag, (static_cast<double>(clock.now_ms()) - ms) / 1000.0 - 60);
  EXPECT_LE(lag, (static_cast<double>(clock.now_ms()) - ms) / 1000.0);
  EXPECT_GE(pm.stream_last_message_age.with({"default"}).value(), 0);
  EXPECT_LT(pm.stream_last_message_age.with({"default"}).value(), 60);

  // The server ends the next connection: a reconnection "closed", no longer connected.
  turns = 0;
  StreamConnection r = feed.connect_once([&] {
    if (fake.connections() >= 2) fake.drop_connections();  // until this one is gone
    return ++turns > 600;
  });
  EXPECT_EQ(r.end, StreamEnd::kClosed);
  EXPECT_EQ(pm.stream_reconnects.with({"default", "closed"}).value(), 1);
  EXPECT_EQ(pm.stream_connected.with({"default"}).value(), 0);
}

TEST(StreamFeed, FilterAndEventTypesKeepEventsOutAndCountThem) {
  FakeStream fake;
  fake.append(9);  // create, update, delete three times
  StreamFeedEnv env(fake,
                    {{"WEBHOOK_STREAM_EVENTS", "create,update"},
                     {"WEBHOOK_FILTER", "item['data']['name'] != 'ind-3 – été'"},
                     {"WEBHOOK_URL", "http://receiver.test/{event_type}/{item['data']['id']}"},
                     {"WEBHOOK_HEADERS", R"({"X-Event": "{event_id}"})"}});
  StreamFeed feed = env.feed();
  const std::string last = fake.events().back().id;
  int turns = 0;
  feed.connect_once([&] { return env.store().stream_cursor("default") == last || ++turns > 300; });
  auto jobs = env.jobs();
  auto events = fake.events();
  // Events 0,1 | 3 filtered, 4 | 6,7: five jobs; deletes (2, 5, 8) and event 3 kept out.
  ASSERT_EQ(jobs.size(), 5u);
  EXPECT_EQ(jobs[0].url,
            "http://receiver.test/create/indicator--00000000-0000-4000-8000-000000000000");
  EXPECT_EQ(jobs[2].url,
            "http://receiver.test/update/indicator--00000004-0000-4000-8000-000000000000");
  EXPECT_EQ(jobs[2].headers, (Json{{"X-Event", events[4].id}}));
  EXPECT_EQ(jobs[2].body, events[4].data);
  auto c = env.store().list_stream_connections("default", 1)[0];
  EXPECT_EQ(c.events, 9);
  EXPECT_EQ(c.filtered, 4);
  EXPECT_EQ(c.jobs_enqueued, 5);
}

TEST(StreamFeed, ResumesFromTheRegisteredConnectorState) {
  FakeStream fake;
  fake.append(6);
  StreamFeedEnv env(fake, {{"CONNECTOR_LIVE_STREAM_START_TIMESTAMP", "1"}});
  env.options().registered_start = fake.events()[3].id;
  StreamFeed feed = env.feed();
  EXPECT_EQ(feed.start().from_id, fake.events()[3].id);
  const std::string last = fake.events().back().id;
  int turns = 0;
  feed.connect_once([&] { return env.store().stream_cursor("default") == last || ++turns > 300; });
  auto jobs = env.jobs();
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(jobs[0].body, fake.events()[4].data);
}

TEST(StreamFeed, ReconnectsAfterBackoffDoublingUpToTheCap) {
  FakeStream fake;
  StreamFeedEnv env(fake, {{"WEBHOOK_STREAM_RECONNECT_MAX", "5"}});
  StreamFeed feed = env.feed();
  EXPECT_EQ(feed.backoff(0), 0ms);
  EXPECT_EQ(feed.backoff(1), 1000ms);
  EXPECT_EQ(feed.backoff(2), 2000ms);
  EXPECT_EQ(feed.backoff(3), 4000ms);
  EXPECT_EQ(feed.backoff(4), 5000ms);
  EXPECT_EQ(feed.backoff(40), 5000ms);
}

TEST(StreamFeed, RecordsWhyAFailedConnectionEnded) {
  FakeStream fake;
  fake.fail_next(503);
  StreamFeedEnv env(fake);
  StreamFeed feed = env.feed();
  StreamConnection r = feed.connect_once();
  EXPECT_EQ(r.http_status, 503);
  auto c = env.store().list_stream_connections("default", 1)[0];
  EXPECT_EQ(c.http_status, 503);
  EXPECT_NE(c.end_reason.find("HTTP 503"), std::string::npos) << c.end_reason;
  EXPECT_TRUE(c.ended_at.has_value());
}

TEST(StreamIds, CompareAsOpenCtiOrdersThem) {
  EXPECT_EQ(compare_stream_ids("1700000000000-2", "1700000000000-10"), -1);
  EXPECT_EQ(compare_stream_ids("1700000000001-0", "1700000000000-10"), 1);
  EXPECT_EQ(compare_stream_ids("5-5", "5-5"), 0);
}

}  // namespace
}  // namespace webhook::poller
