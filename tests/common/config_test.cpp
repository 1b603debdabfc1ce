#include "common/config.h"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"

namespace webhook {
namespace {

using testing::TempDir;

// The settings the poller cannot start without, as in the reference README.
Environment poller_env() {
  return {
      {"OPENCTI_URL", "http://opencti:8080"},
      {"OPENCTI_TOKEN", "s3cr3t-token"},
      {"WEBHOOK_GRAPHQL_QUERY", "{{works{{edges{{node{{id}}}}}}}}"},
      {"WEBHOOK_GRAPHQL_RETURNED_DATA_LOCATION", "['data']['works']['edges']"},
      {"WEBHOOK_URL", "http://localhost?id={item['node']['id']}"},
  };
}

std::vector<std::string> problems_of(unsigned programs, const Environment& env,
                                     std::optional<std::string> file = std::nullopt) {
  try {
    Config::load(programs, env, file);
  } catch (const ConfigError& e) {
    return e.problems();
  }
  return {};
}

bool any_contains(const std::vector<std::string>& lines, const std::string& needle) {
  for (const auto& l : lines) {
    if (l.find(needle) != std::string::npos) return true;
  }
  return false;
}

TEST(ConfigTest, LoadsFromEnvironmentOnly) {
  Environment env = poller_env();
  env["WEBHOOK_GRAPHQL_POLLING_INTERVAL"] = "0.2";
  env["WEBHOOK_UNSUCCESSFUL_RETRY_ATTEMPTS"] = "5";
  Config c = Config::load(kPoller, env, std::nullopt);
  EXPECT_EQ(c.string("OPENCTI_URL"), "http://opencti:8080");
  EXPECT_EQ(c.duration("WEBHOOK_GRAPHQL_POLLING_INTERVAL"), std::chrono::milliseconds(200));
  EXPECT_EQ(c.integer("WEBHOOK_UNSUCCESSFUL_RETRY_ATTEMPTS"), 5);
  ASSERT_EQ(c.feeds().size(), 1u);
  EXPECT_EQ(c.feeds()[0].name, "default");
  EXPECT_EQ(c.feeds()[0].url, "http://localhost?id={item['node']['id']}");
  EXPECT_EQ(c.feeds()[0].polling_interval, std::chrono::milliseconds(200));
  EXPECT_EQ(c.feeds()[0].retry_attempts, 5);
}

TEST(ConfigTest, DefaultsApplyWhenUnset) {
  Config c = Config::load(kPoller | kDispatcher, poller_env(), std::nullopt);
  EXPECT_EQ(c.string("CONNECTOR_LOG_LEVEL"), "info");
  EXPECT_EQ(c.integer("CONNECTOR_METRICS_PORT"), 9095);
  EXPECT_EQ(c.duration("WEBHOOK_TIMEOUT"), std::chrono::seconds(30));
  EXPECT_EQ(c.string("WEBHOOK_DATABASE_PATH"), "data/webhook.db");
  EXPECT_TRUE(c.boolean("OPENCTI_SSL_VERIFY"));
  EXPECT_FALSE(c.optional_boolean("OPENCTI_JSON_LOGGING").has_value());
  EXPECT_FALSE(c.optional_duration("WEBHOOK_MAX_JOB_AGE").has_value());
  EXPECT_EQ(c.feeds()[0].method, "GET");
  EXPECT_EQ(c.feeds()[0].poll_overlap, std::chrono::seconds(5));
}

TEST(ConfigTest, LoadsFromFileOnly) {
  TempDir dir;
  std::string file = dir.write("config.yml", R"(
opencti:
  url: 'http://opencti:8080'
  token: 'file-token'
connector:
  log_level: debug
webhook:
  graphql_polling_interval: 30
  graphql_query: '{{users{{edges{{node{{user_email}}}}}}}}'
  graphql_returned_data_location: "['data']['users']['edges']"
  url: "http://localhost?email={item['node']['user_email']}"
  headers:
    X-Source: opencti
  ignore_duplicates: Yes
)");
  Config c = Config::load(kPoller, {}, file);
  EXPECT_EQ(c.string("OPENCTI_TOKEN"), "file-token");
  EXPECT_EQ(c.string("CONNECTOR_LOG_LEVEL"), "debug");
  EXPECT_EQ(c.duration("WEBHOOK_GRAPHQL_POLLING_INTERVAL"), std::chrono::seconds(30));
  EXPECT_EQ(c.json("WEBHOOK_HEADERS").dump(), R"({"X-Source":"opencti"})");
  EXPECT_TRUE(c.feeds()[0].ignore_duplicates);
  EXPECT_EQ(c.feeds()[0].data_location, "['data']['users']['edges']");
}

TEST(ConfigTest, EnvironmentOverridesFile) {
  TempDir dir;
  std::string file = dir.write("config.yml", R"(
opencti: {url: 'http://from-file', token: 'file-token'}
webhook:
  graphql_query: 'q'
  graphql_returned_data_location: "['data']"
  url: 'http://file/{item}'
  unsuccessful_retry_interval: 10
)");
  Environment env = {{"OPENCTI_URL", "http://from-env"},
                     {"WEBHOOK_UNSUCCESSFUL_RETRY_INTERVAL", "2.5"}};
  Config c = Config::load(kPoller | kDispatcher, env, file);
  EXPECT_EQ(c.string("OPENCTI_URL"), "http://from-env");
  EXPECT_EQ(c.string("OPENCTI_TOKEN"), "file-token");
  EXPECT_EQ(c.feeds()[0].retry_interval, std::chrono::milliseconds(2500));
}

TEST(ConfigTest, EmptyEnvironmentValueCountsAsUnset) {
  Environment env = poller_env();
  env["WEBHOOK_SECRET"] = "";
  env["WEBHOOK_TIMEOUT"] = "  ";
  Config c = Config::load(kPoller | kDispatcher, env, std::nullopt);
  EXPECT_FALSE(c.is_set("WEBHOOK_SECRET"));
  EXPECT_EQ(c.duration("WEBHOOK_TIMEOUT"), std::chrono::seconds(30));
}

struct BooleanCase {
  const char* text;
  std::optional<bool> expected;
};

TEST(ConfigTest, BooleansAcceptEverySpellingInAnyCase) {
  const BooleanCase cases[] = {
      {"true", true},   {"TRUE", true},       {"True", true},      {"yes", true},
      {"YES", true},    {"1", true},          {"false", false},    {"False", false},
      {"FALSE", false}, {"no", false},        {"No", false},       {"0", false},
      {" yes ", true},  {"on", std::nullopt}, {"2", std::nullopt}, {"truee", std::nullopt},
  };
  for (const auto& tc : cases) {
    SCOPED_TRACE(tc.text);
    EXPECT_EQ(parse_boolean(tc.text), tc.expected);
    Environment env = poller_env();
    env["WEBHOOK_IGNORE_DUPLICATES"] = tc.text;
    if (tc.expected) {
      EXPECT_EQ(Config::load(kPoller, env, std::nullopt).feeds()[0].ignore_duplicates,
                *tc.expected);
    } else {
      EXPECT_TRUE(any_contains(problems_of(kPoller, env),
                               "WEBHOOK_IGNORE_DUPLICATES (environment): expected a boolean"));
    }
  }
}

struct BadValueCase {
  const char* name;
  const char* value;
  const char* message;
};

TEST(ConfigTest, BadValuesOfEachTypeAreReportedWithTheSetting) {
  const BadValueCase cases[] = {
      {"WEBHOOK_UNSUCCESSFUL_RETRY_ATTEMPTS", "three",
       "WEBHOOK_UNSUCCESSFUL_RETRY_ATTEMPTS (environment): expected an integer from 0 to 1000, "
       "got 'three'"},
      {"WEBHOOK_UNSUCCESSFUL_RETRY_ATTEMPTS", "-1", "expected an integer from 0 to 1000"},
      {"WEBHOOK_UNSUCCESSFUL_RETRY_ATTEMPTS", "3.5", "expected an integer"},
      {"CONNECTOR_METRICS_PORT", "70000", "expected an integer from 1 to 65535, got '70000'"},
      {"WEBHOOK_GRAPHQL_POLLING_INTERVAL", "1m", "expected a number of seconds from 0.01"},
      {"WEBHOOK_GRAPHQL_POLLING_INTERVAL", "0", "expected a number of seconds from 0.01"},
      {"WEBHOOK_TIMEOUT", "nan", "expected a number of seconds"},
      {"CONNECTOR_LOG_LEVEL", "verbose",
       "CONNECTOR_LOG_LEVEL (environment): expected one of debug,info,warn,warning,error, got "
       "'verbose'"},
      {"WEBHOOK_METHOD", "FETCH", "expected one of GET,POST,PUT,PATCH,DELETE"},
      {"WEBHOOK_HEADERS", "[1,2]", "WEBHOOK_HEADERS (environment): expected a JSON object"},
      {"WEBHOOK_HEADERS", R"({"X-N": 1})", "whose values are strings (\"X-N\" is not)"},
      {"WEBHOOK_PERMANENT_STATUSES", "400,abc", "expected comma-separated HTTP status codes"},
      {"WEBHOOK_PERMANENT_STATUSES", "99", "expected comma-separated HTTP status codes"},
      {"OPENCTI_SSL_VERIFY", "maybe", "OPENCTI_SSL_VERIFY (environment): expected a boolean"},
  };
  for (const auto& tc : cases) {
    SCOPED_TRACE(std::string(tc.name) + "=" + tc.value);
    Environment env = poller_env();
    env[tc.name] = tc.value;
    auto problems = problems_of(kPoller | kDispatcher, env);
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_NE(problems[0].find(tc.message), std::string::npos) << problems[0];
  }
}

TEST(ConfigTest, EnumValuesAreCaseInsensitiveAndNormalised) {
  Environment env = poller_env();
  env["CONNECTOR_LOG_LEVEL"] = "WARNING";
  env["WEBHOOK_METHOD"] = "post";
  Config c = Config::load(kPoller, env, std::nullopt);
  EXPECT_EQ(c.string("CONNECTOR_LOG_LEVEL"), "warning");
  EXPECT_EQ(c.feeds()[0].method, "POST");
}

TEST(ConfigTest, EveryMissingMandatorySettingIsReportedAtOnce) {
  auto problems = problems_of(kPoller, {});
  EXPECT_EQ(problems.size(), 5u);
  for (const char* name : {"OPENCTI_URL", "OPENCTI_TOKEN", "WEBHOOK_GRAPHQL_QUERY",
                           "WEBHOOK_GRAPHQL_RETURNED_DATA_LOCATION", "WEBHOOK_URL"}) {
    EXPECT_TRUE(any_contains(problems, std::string(name) + ": required but not set")) << name;
  }
}

TEST(ConfigTest, DispatcherNeedsNoOpenCtiSettings) {
  Config c = Config::load(kDispatcher, {}, std::nullopt);
  EXPECT_EQ(c.integer("WEBHOOK_CONCURRENCY"), 16);
  EXPECT_EQ(c.feeds()[0].retry_attempts, 3);
}

TEST(ConfigTest, SecretsAreMaskedInEveryMessage) {
  Environment env = poller_env();
  env["WEBHOOK_SECRET"] = "not-a-whsec-value-SECRETXYZ";
  env["OPENCTI_TOKEN"] = "tok-SECRETXYZ";
  env["WEBHOOK_TIMEOUT"] = "bad";
  auto problems = problems_of(kPoller | kDispatcher, env);
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_TRUE(any_contains(problems,
                           "WEBHOOK_SECRET (environment): expected a Standard "
                           "Webhooks secret: whsec_ followed by base64, got ***"));
  for (const auto& p : problems) EXPECT_EQ(p.find("SECRETXYZ"), std::string::npos) << p;

  env["WEBHOOK_SECRET"] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  env.erase("WEBHOOK_TIMEOUT");
  Config c = Config::load(kPoller | kDispatcher, env, std::nullopt);
  for (const auto& line : c.describe()) {
    EXPECT_EQ(line.find("SECRETXYZ"), std::string::npos) << line;
    EXPECT_EQ(line.find("MfKQ9r8GKYqr"), std::string::npos) << line;
  }
  EXPECT_TRUE(any_contains(c.describe(), "OPENCTI_TOKEN=***"));
  EXPECT_TRUE(any_contains(c.describe(), "WEBHOOK_SECRET=***"));
}

TEST(ConfigTest, SecretInFileIsMaskedToo) {
  TempDir dir;
  std::string file = dir.write("config.yml", "webhook:\n  secret: plain-FILESECRET\n");
  auto problems = problems_of(kDispatcher, {}, file);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("WEBHOOK_SECRET (" + file + "): expected"), std::string::npos)
      << problems[0];
  EXPECT_EQ(problems[0].find("FILESECRET"), std::string::npos);
}

TEST(ConfigTest, MalformedYamlNamesFileAndLine) {
  TempDir dir;
  std::string file = dir.write("config.yml", "webhook:\n  url: [unclosed\n");
  auto problems = problems_of(kDispatcher, {}, file);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find(file + ": line "), std::string::npos) << problems[0];
}

TEST(ConfigTest, MissingExplicitConfigFileIsAnError) {
  EXPECT_THROW(Config::load(kDispatcher, {}, "/nonexistent/config.yml", true), ConfigError);
  EXPECT_NO_THROW(Config::load(kDispatcher, {}, "/nonexistent/config.yml", false));
}

TEST(ConfigTest, SeveralFeedsFromFileInheritSharedSettings) {
  TempDir dir;
  std::string file = dir.write("config.yml", R"(
opencti: {url: 'http://opencti', token: 't'}
webhook:
  unsuccessful_retry_attempts: 7
  url: 'http://shared/{item}'
feeds:
  - name: works
    graphql_query: '{{works{{edges{{node{{id}}}}}}}}'
    graphql_returned_data_location: "['data']['works']['edges']"
    graphql_polling_interval: 10
  - name: users
    graphql_query: '{{users{{edges{{node{{id}}}}}}}}'
    graphql_returned_data_location: "['data']['users']['edges']"
    url: 'http://users/{item}'
    method: post
    unsuccessful_retry_attempts: 1
)");
  Config c = Config::load(kPoller | kDispatcher, {}, file);
  ASSERT_EQ(c.feeds().size(), 2u);
  EXPECT_EQ(c.feeds()[0].name, "works");
  EXPECT_EQ(c.feeds()[0].url, "http://shared/{item}");
  EXPECT_EQ(c.feeds()[0].retry_attempts, 7);
  EXPECT_EQ(c.feeds()[0].polling_interval, std::chrono::seconds(10));
  EXPECT_EQ(c.feeds()[1].url, "http://users/{item}");
  EXPECT_EQ(c.feeds()[1].method, "POST");
  EXPECT_EQ(c.feeds()[1].retry_attempts, 1);
}

TEST(ConfigTest, FeedProblemsNameTheFeed) {
  TempDir dir;
  std::string file = dir.write("config.yml", R"(
opencti: {url: 'http://opencti', token: 't'}
feeds:
  - name: works
    graphql_query: 'q'
    url: 'http://x/{item}'
    colour: blue
  - name: works
    graphql_query: 'q'
  - name: 'bad name!'
)");
  auto problems = problems_of(kPoller, {}, file);
  EXPECT_TRUE(any_contains(problems, "feeds[0].colour: not a per-feed setting"));
  EXPECT_TRUE(any_contains(problems, "feeds[1].name: feed 'works' is listed twice"));
  EXPECT_TRUE(any_contains(problems, "feeds[2].name: expected 1-64 letters"));
  EXPECT_TRUE(
      any_contains(problems, "feed 'works' graphql_returned_data_location: required but not set"));
}

TEST(ConfigTest, UnknownWebhookSettingsAreWarnedAbout) {
  Environment env = poller_env();
  env["WEBHOOK_URLL"] = "typo";
  Config c = Config::load(kPoller, env, std::nullopt);
  ASSERT_EQ(c.warnings().size(), 1u);
  EXPECT_EQ(c.warnings()[0], "WEBHOOK_URLL: unknown setting, ignored");
}

TEST(ConfigTest, ReadingWithWrongTypeIsAProgrammingError) {
  Config c = Config::load(kPoller, poller_env(), std::nullopt);
  EXPECT_THROW(c.integer("OPENCTI_URL"), std::logic_error);
  EXPECT_THROW(c.string("NO_SUCH_SETTING"), std::logic_error);
}

// The README's configuration table is generated from the setting table; this keeps the two
// from drifting (regenerate with `make readme-settings`).
TEST(SettingTableTest, ReadmeTableMatchesTheSettingTable) {
  std::ifstream in(std::string(WEBHOOK_SOURCE_DIR) + "/README.md");
  std::stringstream buf;
  buf << in.rdbuf();
  std::string readme = buf.str();
  const std::string begin = "<!-- settings:begin -->\n";
  const std::string end = "<!-- settings:end -->";
  auto b = readme.find(begin);
  auto e = readme.find(end);
  ASSERT_NE(b, std::string::npos);
  ASSERT_NE(e, std::string::npos);
  EXPECT_EQ(readme.substr(b + begin.size(), e - b - begin.size()), settings_markdown_table())
      << "README.md's configuration table is stale: run `make readme-settings`";
}

TEST(SettingTableTest, EveryReferenceConnectorSettingIsAccepted) {
  for (const char* name : {"OPENCTI_URL", "OPENCTI_TOKEN", "CONNECTOR_ID", "CONNECTOR_TYPE",
                           "CONNECTOR_NAME", "CONNECTOR_SCOPE", "CONNECTOR_CONFIDENCE_LEVEL",
                           "CONNECTOR_LOG_LEVEL", "WEBHOOK_GRAPHQL_POLLING_INTERVAL",
                           "WEBHOOK_GRAPHQL_QUERY", "WEBHOOK_GRAPHQL_RETURNED_DATA_LOCATION",
                           "WEBHOOK_URL", "WEBHOOK_UNSUCCESSFUL_RETRY_INTERVAL",
                           "WEBHOOK_UNSUCCESSFUL_RETRY_ATTEMPTS", "WEBHOOK_IGNORE_DUPLICATES"}) {
    EXPECT_NE(find_setting(name), nullptr) << name;
  }
  Environment env = poller_env();
  env["CONNECTOR_TYPE"] = "Template_Type";
  env["CONNECTOR_SCOPE"] = "Template Scope";
  env["CONNECTOR_CONFIDENCE_LEVEL"] = "3";
  EXPECT_NO_THROW(Config::load(kPoller | kDispatcher, env, std::nullopt));
}

}  // namespace
}  // namespace webhook
