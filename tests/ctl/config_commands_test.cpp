// `webhookctl check-config` and the start of webhook-poller and webhook-dispatcher, run as
// real processes on hostile settings (issue 21): each must refuse them with exit 2 and one
// line per problem naming the setting, and all three must agree on what they refuse.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "tests/support/child_process.h"
#include "tests/support/fake_opencti.h"
#include "tests/support/temp_dir.h"

namespace webhook::ctl {
namespace {

using testing::CommandResult;
using testing::FakeOpencti;
using testing::run_command;
using testing::TempDir;

const std::string kCtl = WEBHOOK_BINARY_DIR "/ctl/webhookctl";
const std::string kPoller = WEBHOOK_BINARY_DIR "/poller/webhook-poller";
const std::string kDispatcher = WEBHOOK_BINARY_DIR "/dispatcher/webhook-dispatcher";

// Settings every program accepts; OPENCTI_URL points at a closed port, since each case
// must be refused before anything is contacted.
std::map<std::string, std::string> base_env(const TempDir& dir) {
  return {{"OPENCTI_URL", "http://127.0.0.1:9"},
          {"OPENCTI_TOKEN", "config-test-token-8d2e"},
          {"OPENCTI_JSON_LOGGING", "false"},
          {"WEBHOOK_GRAPHQL_QUERY", "{{works{{edges{{node{{id}}}}}}}}"},
          {"WEBHOOK_GRAPHQL_RETURNED_DATA_LOCATION", "['data']['works']['edges']"},
          {"WEBHOOK_URL", "http://127.0.0.1:9/hook?id={item['node']['id']}"},
          {"WEBHOOK_DATABASE_PATH", dir.file("webhook.db")}};
}

std::size_t lines_of(const std::string& text) {
  std::size_t n = 0;
  for (char c : text) n += c == '\n' ? 1 : 0;
  return n;
}

struct Run {
  std::string program;
  CommandResult result;
};

// check-config, then the poller and the dispatcher (--once, so a program that wrongly
// accepts the settings still ends), each with `env` and `--config file` when given.
std::vector<Run> run_all(const std::map<std::string, std::string>& env,
                         const std::string& file = {}) {
  std::vector<std::string> config;
  if (!file.empty()) config = {"--config", file};
  auto with = [&](std::vector<std::string> argv) {
    argv.insert(argv.end(), config.begin(), config.end());
    return argv;
  };
  return {{"webhookctl check-config", run_command(with({kCtl, "check-config", "--quiet"}), env)},
          {"webhook-poller", run_command(with({kPoller, "--once"}), env)},
          {"webhook-dispatcher", run_command(with({kDispatcher, "--once"}), env)}};
}

TEST(CheckConfig, TheBaseSettingsAreAccepted) {
  TempDir dir;
  auto r = run_command({kCtl, "check-config", "--quiet"}, base_env(dir));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("configuration OK"), std::string::npos) << r.out;
}

// Issue 21 item 6: a YAML value of the wrong shape ended the dispatcher and the poller with
// an uncaught YAML::TypedBadConversion (exit 134). The programs that read the setting refuse
// it; the poller, which does not read it, ignores it as it ignores the same mistake in the
// environment.
TEST(CheckConfig, AYamlValueOfTheWrongShapeIsExit2NamingTheSettingAndTheShape) {
  FakeOpencti fake;
  TempDir dir;
  auto env = base_env(dir);
  env["OPENCTI_URL"] = fake.url();
  env["OPENCTI_TOKEN"] = fake.token();
  std::string file = dir.write("config.yml", "webhook:\n  permanent_statuses: [[400]]\n");
  for (const auto& run : run_all(env, file)) {
    SCOPED_TRACE(run.program);
    EXPECT_EQ(run.result.err.find("terminate"), std::string::npos) << run.result.err;
    EXPECT_EQ(run.result.err.find("bad conversion"), std::string::npos) << run.result.err;
    if (run.program == "webhook-poller") {
      EXPECT_EQ(run.result.exit_code, 0) << run.result.err;
      continue;
    }
    EXPECT_EQ(run.result.exit_code, 2) << run.result.err;
    EXPECT_EQ(lines_of(run.result.err), 1u) << run.result.err;
    EXPECT_NE(run.result.err.find("WEBHOOK_PERMANENT_STATUSES (" + file +
                                  ", webhook.permanent_statuses): expected a list of HTTP "
                                  "status codes such as [400, 404, 410]"),
              std::string::npos)
        << run.result.err;
    EXPECT_NE(run.result.err.find("got a list inside the list (item 1)"), std::string::npos)
        << run.result.err;
  }
}

// Item 6 in general: every setting read from YAML, at the top and in `feeds:`, and keys
// that are not single values.
TEST(CheckConfig, EveryYamlShapeMistakeIsExit2AndNeverAnAbort) {
  struct Case {
    std::string yaml;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"webhook:\n  permanent_statuses: {a: 1}\n", "WEBHOOK_PERMANENT_STATUSES (" /* file */},
      {"webhook:\n  headers: {X-A: [1]}\n", "got a list under 'X-A'"},
      {"webhook:\n  headers: {[a]: b}\n", "got a list as a name"},
      {"webhook:\n  headers:\n    X-A:\n", "got nothing under 'X-A'"},
      {"webhook:\n  headers: [a, b]\n", "WEBHOOK_HEADERS ("},
      {"webhook:\n  graphql_polling_interval: {seconds: 5}\n",
       "WEBHOOK_GRAPHQL_POLLING_INTERVAL ("},
      {"connector:\n  log_level: [info]\n", "CONNECTOR_LOG_LEVEL ("},
      {"webhook:\n  [a]: 1\n", "unknown key 'webhook.<a list>'"},
      {"feeds:\n  - name: a\n    permanent_statuses: [[400]]\n",
       "feed 'a' permanent_statuses (WEBHOOK_PERMANENT_STATUSES): expected a list of HTTP"},
      {"feeds:\n  - name: a\n    url: [1, 2]\n",
       "feed 'a' url (WEBHOOK_URL): expected a single value, got a list"},
      {"feeds:\n  - name: a\n    {x: 1}: 2\n", "feeds[0].<a mapping>: not a per-feed setting"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.yaml);
    TempDir dir;
    std::string file = dir.write("config.yml", c.yaml);
    auto r = run_command({kCtl, "check-config", "--quiet", "--config", file}, base_env(dir));
    if (c.expected.rfind("unknown key", 0) == 0) {
      // A key that names no setting is a warning, as for any unknown key: no abort either.
      EXPECT_EQ(r.exit_code, 0) << r.err;
    } else {
      EXPECT_EQ(r.exit_code, 2) << r.err;
    }
    EXPECT_NE(r.err.find(c.expected), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("terminate"), std::string::npos) << r.err;
  }
}

// Issue 21 item 7: `webhook: url: [1, 2]` passed check-config as `<not a single value>` and
// made every item a dead job.
TEST(CheckConfig, AYamlListWhereASingleValueBelongsIsExit2) {
  TempDir dir;
  auto env = base_env(dir);
  env.erase("WEBHOOK_URL");
  std::string file = dir.write("config.yml", "webhook:\n  url: [1, 2]\n");
  for (const auto& run : run_all(env, file)) {
    SCOPED_TRACE(run.program);
    EXPECT_EQ(run.result.exit_code, 2) << run.result.err;
    EXPECT_EQ(lines_of(run.result.err), 1u) << run.result.err;
    EXPECT_NE(run.result.err.find("WEBHOOK_URL (" + file +
                                  ", webhook.url): expected a single value, got a list"),
              std::string::npos)
        << run.result.err;
    EXPECT_EQ(run.result.err.find("<not a single value>"), std::string::npos) << run.result.err;
  }
  EXPECT_FALSE(std::filesystem::exists(dir.file("webhook.db")));
}

// Issue 21 item 8: check-config did not compile templates, so `WEBHOOK_URL='http://x/{'`
// passed it while the poller refused it. Now it runs the poller's compile step: the same
// refusal, with the same message and caret, for every template of every feed.
TEST(CheckConfig, EveryTemplateIsCompiledAsThePollerDoesWithTheSameMessage) {
  struct Case {
    std::string setting;
    std::string value;
    std::string expected;  // in the message
  };
  const std::vector<Case> cases = {
      {"WEBHOOK_URL", "http://x/{", "WEBHOOK_URL: "},
      {"WEBHOOK_HEADERS", R"({"X-Id": "{item['node'['id']}"})", "WEBHOOK_HEADERS[\"X-Id\"]: "},
      {"WEBHOOK_HEADERS", R"({"X Id": "a"})", "'X Id' is not a valid HTTP header name"},
      {"WEBHOOK_BODY", "{json.dumps(item}", "WEBHOOK_BODY: "},
      {"WEBHOOK_GRAPHQL_QUERY", "{works{{edges}}", "WEBHOOK_GRAPHQL_QUERY: "},
      {"WEBHOOK_GRAPHQL_RETURNED_DATA_LOCATION", "['data'['works']",
       "WEBHOOK_GRAPHQL_RETURNED_DATA_LOCATION: "},
      {"WEBHOOK_GRAPHQL_PAGE_INFO_LOCATION", "['data']]", "WEBHOOK_GRAPHQL_PAGE_INFO_LOCATION: "},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.setting + "=" + c.value);
    TempDir dir;
    auto env = base_env(dir);
    env[c.setting] = c.value;
    auto ctl = run_command({kCtl, "check-config", "--quiet"}, env);
    auto poller = run_command({kPoller, "--once"}, env);
    EXPECT_EQ(ctl.exit_code, 2) << ctl.out << ctl.err;
    EXPECT_EQ(poller.exit_code, 2) << poller.err;
    EXPECT_EQ(ctl.out.find("configuration OK"), std::string::npos) << ctl.out;
    EXPECT_NE(ctl.err.find(c.expected), std::string::npos) << ctl.err;
    EXPECT_EQ(ctl.err, poller.err);  // the same message, template and caret
    if (c.expected.back() == ' ') {
      const std::string shown = c.setting == "WEBHOOK_HEADERS" ? "{item['node'['id']}" : c.value;
      EXPECT_NE(ctl.err.find("\n  " + shown + "\n"), std::string::npos) << ctl.err;
      EXPECT_NE(ctl.err.find('^'), std::string::npos) << ctl.err;
    }
  }
}

// Issue 21: a flat chain of 20,000 terms passed check-config, then crashed the poller on the
// first item (SIGSEGV); a `**` chain crashed at compile time. Both are now refused by
// check-config and the poller alike, exit 2 with the same message, never a signal.
TEST(CheckConfig, FlatChainsTooDeepToEvaluateAreRefusedAsThePollerRefusesThem) {
  auto chain = [](const std::string& op, int terms) {
    std::string text = "1";
    for (int i = 1; i < terms; ++i) text += op + "1";
    return "http://x/{" + text + "}";
  };
  for (const std::string& url : {chain("+", 20'000), chain("**", 20'000), chain(" and ", 20'000)}) {
    SCOPED_TRACE(url.substr(0, 20));
    TempDir dir;
    auto env = base_env(dir);
    env["WEBHOOK_URL"] = url;
    auto ctl = run_command({kCtl, "check-config", "--quiet"}, env);
    auto poller = run_command({kPoller, "--once"}, env);
    EXPECT_EQ(ctl.exit_code, 2) << ctl.err.substr(0, 300);
    EXPECT_EQ(poller.exit_code, 2) << poller.err.substr(0, 300);
    EXPECT_EQ(ctl.err.rfind("WEBHOOK_URL: ", 0), 0u) << ctl.err.substr(0, 300);
    EXPECT_NE(ctl.err.find("column"), std::string::npos) << ctl.err.substr(0, 300);
    EXPECT_EQ(ctl.err, poller.err);
  }
}

TEST(CheckConfig, TemplatesOfEveryFeedAreCompiledAndTheFeedIsNamed) {
  TempDir dir;
  std::string file = dir.write("config.yml",
                               "feeds:\n"
                               "  - name: good\n"
                               "  - name: broken\n"
                               "    url: \"http://x/{item['id']\"\n");
  auto env = base_env(dir);
  auto ctl = run_command({kCtl, "check-config", "--quiet", "--config", file}, env);
  auto poller = run_command({kPoller, "--once", "--config", file}, env);
  EXPECT_EQ(ctl.exit_code, 2) << ctl.err;
  EXPECT_NE(ctl.err.find("WEBHOOK_URL (feed 'broken'): "), std::string::npos) << ctl.err;
  EXPECT_EQ(ctl.err.find("feed 'good'"), std::string::npos) << ctl.err;
  EXPECT_EQ(ctl.err, poller.err);
}

// Issue 21 item 11: a header template holding Content-Length let a rendered body be read as
// a second request. The headers that frame a request are refused at start, by every
// program that reads the headers.
TEST(CheckConfig, HeadersTheClientSetsItselfAreRefused) {
  for (std::string name :
       {"Content-Length", "content-length", "Transfer-Encoding", "Host", "CONNECTION"}) {
    SCOPED_TRACE(name);
    TempDir dir;
    auto env = base_env(dir);
    env["WEBHOOK_METHOD"] = "POST";
    env["WEBHOOK_BODY"] = "{item['node']['id']}";
    env["WEBHOOK_HEADERS"] = "{\"X-Ok\": \"1\", \"" + name + "\": \"0\"}";
    auto ctl = run_command({kCtl, "check-config", "--quiet"}, env);
    auto poller = run_command({kPoller, "--once"}, env);
    for (const auto* r : {&ctl, &poller}) {
      EXPECT_EQ(r->exit_code, 2) << r->err;
      EXPECT_EQ(lines_of(r->err), 1u) << r->err;
      EXPECT_NE(r->err.find("WEBHOOK_HEADERS[\"" + name + "\"]: the HTTP client sets "),
                std::string::npos)
          << r->err;
      EXPECT_NE(r->err.find("itself"), std::string::npos) << r->err;
    }
    EXPECT_FALSE(std::filesystem::exists(dir.file("webhook.db")));
  }
}

TEST(CheckConfig, AnAllowedHostWithASchemeOrPathIsRefused) {
  for (std::string hosts : {"http://receiver.test", "receiver.test/hook", "a.test, b.test/x"}) {
    SCOPED_TRACE(hosts);
    TempDir dir;
    auto env = base_env(dir);
    env["WEBHOOK_ALLOWED_HOSTS"] = hosts;
    for (const auto& run : run_all(env)) {
      SCOPED_TRACE(run.program);
      EXPECT_EQ(run.result.exit_code, 2) << run.result.err;
      EXPECT_NE(run.result.err.find("WEBHOOK_ALLOWED_HOSTS: expected host names or host:port"),
                std::string::npos)
          << run.result.err;
    }
  }
  TempDir dir;
  auto env = base_env(dir);
  env["WEBHOOK_ALLOWED_HOSTS"] = "receiver.test, 127.0.0.1:8080, [::1]:9000";
  auto r = run_command({kCtl, "check-config", "--quiet"}, env);
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

}  // namespace
}  // namespace webhook::ctl
