// The stream webhook connector's settings as Config reads them: CONNECTOR_LIVE_STREAM_ID
// makes the default feed a stream feed with that connector's request defaults; both it and
// a query is refused; feeds mix in config.yml; the metrics aliases; WEBHOOK_AUTH_TYPE.
#include <gtest/gtest.h>

#include <fstream>

#include "common/config.h"
#include "tests/support/temp_dir.h"

namespace webhook {
namespace {

Environment stream_env() {
  return {{"OPENCTI_URL", "http://opencti:8080"},
          {"OPENCTI_TOKEN", "token-1234"},
          {"CONNECTOR_LIVE_STREAM_ID", "live-1"},
          {"WEBHOOK_URL", "http://receiver/hook"}};
}

std::vector<std::string> problems_of(const Environment& env,
                                     std::optional<std::string> file = std::nullopt) {
  try {
    Config::load(kPoller | kDispatcher, env, file);
  } catch (const ConfigError& e) {
    return e.problems();
  }
  return {};
}

TEST(StreamConfig, LiveStreamIdMakesTheDefaultFeedAStreamFeedThatPostsTheData) {
  Config c = Config::load(kPoller, stream_env(), std::nullopt);
  ASSERT_EQ(c.feeds().size(), 1u);
  const FeedConfig& f = c.feeds()[0];
  EXPECT_EQ(f.source, FeedSource::kStream);
  EXPECT_EQ(f.stream_id, "live-1");
  EXPECT_EQ(f.method, "POST");
  EXPECT_EQ(f.headers, (nlohmann::ordered_json{{"Content-Type", "application/json"},
                                               {"Accept", "application/json"}}));
  EXPECT_TRUE(f.body_is_event_data);
  EXPECT_EQ(f.stream_events, (std::vector<std::string>{"create", "update", "delete", "merge"}));
}

TEST(StreamConfig, MethodHeadersAndBodyStillOverride) {
  Environment env = stream_env();
  env["WEBHOOK_METHOD"] = "PUT";
  env["WEBHOOK_BODY"] = "{item['data']['id']}";
  Config c = Config::load(kPoller, env, std::nullopt);
  EXPECT_EQ(c.feeds()[0].method, "PUT");
  EXPECT_FALSE(c.feeds()[0].body_is_event_data);
}

TEST(StreamConfig, AStreamIdAndAQueryTogetherAreRefusedInOneLine) {
  Environment env = stream_env();
  env["WEBHOOK_GRAPHQL_QUERY"] = "{{works{{edges{{node{{id}}}}}}}}";
  env["WEBHOOK_GRAPHQL_RETURNED_DATA_LOCATION"] = "['data']";
  auto problems = problems_of(env);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("CONNECTOR_LIVE_STREAM_ID and WEBHOOK_GRAPHQL_QUERY"),
            std::string::npos);
}

TEST(StreamConfig, ChangeMeCountsAsUnset) {
  Environment env = stream_env();
  env["CONNECTOR_LIVE_STREAM_ID"] = "ChangeMe";
  auto problems = problems_of(env);
  ASSERT_FALSE(problems.empty());
  EXPECT_NE(problems[0].find("WEBHOOK_GRAPHQL_QUERY: required but not set"), std::string::npos)
      << problems[0];
}

TEST(StreamConfig, TokenAuthNeedsAHeaderAndAToken) {
  Environment env = stream_env();
  env["WEBHOOK_AUTH_TYPE"] = "TOKEN";
  auto problems = problems_of(env);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("WEBHOOK_AUTH_TYPE"), std::string::npos);
  env["WEBHOOK_HEADER"] = "X-Api-Key";
  env["WEBHOOK_TOKEN"] = "s3cret-token-value";
  Config c = Config::load(kPoller | kDispatcher, env, std::nullopt);
  EXPECT_EQ(c.feeds()[0].auth_header, "X-Api-Key");
  EXPECT_EQ(c.feeds()[0].auth_token, "s3cret-token-value");
  env["WEBHOOK_AUTH_TYPE"] = "BASIC";
  problems = problems_of(env);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("expected NONE or TOKEN"), std::string::npos);
  for (const auto& line : Config::load(kPoller, stream_env(), std::nullopt).describe()) {
    EXPECT_EQ(line.find("s3cret-token-value"), std::string::npos);
  }
}

TEST(StreamConfig, MetricsAliasesOfTheStreamConnector) {
  Environment env = stream_env();
  env["METRICS_ENABLE"] = "true";
  env["METRICS_PORT"] = "9113";
  env["METRICS_ADDR"] = "127.0.0.1";
  env["CONNECTOR_CONSUMER_COUNT"] = "10";
  env["WEBHOOK_TYPE"] = "URL";
  Config c = Config::load(kPoller, env, std::nullopt);
  EXPECT_TRUE(c.boolean("CONNECTOR_EXPOSE_METRICS"));
  EXPECT_EQ(c.integer("CONNECTOR_METRICS_PORT"), 9113);
  EXPECT_EQ(c.string("WEBHOOK_METRICS_HOST"), "127.0.0.1");
  env["CONNECTOR_METRICS_PORT"] = "9200";  // ours, when set, is kept
  EXPECT_EQ(Config::load(kPoller, env, std::nullopt).integer("CONNECTOR_METRICS_PORT"), 9200);
}

TEST(StreamConfig, PollingAndStreamFeedsMixInConfigYml) {
  webhook::testing::TempDir dir;
  std::string path = dir.file("config.yml");
  std::ofstream(path) << R"(opencti:
  url: http://opencti:8080
  token: token-1234
feeds:
  - name: events
    source: stream
    stream_id: live-2
    url: http://receiver/events
    filter: "item['data']['type'] == 'indicator'"
    stream_events: create,delete
  - name: works
    graphql_query: '{{works{{edges{{node{{id}}}}}}}}'
    graphql_returned_data_location: "['data']['works']['edges']"
    url: http://receiver/works
)";
  Config c = Config::load(kPoller, {}, path, true);
  ASSERT_EQ(c.feeds().size(), 2u);
  EXPECT_EQ(c.feeds()[0].source, FeedSource::kStream);
  EXPECT_EQ(c.feeds()[0].stream_id, "live-2");
  EXPECT_EQ(c.feeds()[0].filter, "item['data']['type'] == 'indicator'");
  EXPECT_EQ(c.feeds()[0].stream_events, (std::vector<std::string>{"create", "delete"}));
  EXPECT_EQ(c.feeds()[1].source, FeedSource::kGraphql);
  EXPECT_EQ(c.feeds()[1].method, "GET");
}

TEST(StreamConfig, AStreamFeedWithoutAStreamIdIsRefused) {
  Environment env = stream_env();
  env.erase("CONNECTOR_LIVE_STREAM_ID");
  env["WEBHOOK_SOURCE"] = "stream";
  auto problems = problems_of(env);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("CONNECTOR_LIVE_STREAM_ID: required by a stream feed"),
            std::string::npos);
  env["WEBHOOK_SOURCE"] = "kafka";
  problems = problems_of(env);
  ASSERT_FALSE(problems.empty());
  EXPECT_NE(problems[0].find("WEBHOOK_SOURCE: expected graphql or stream"), std::string::npos);
}

}  // namespace
}  // namespace webhook
