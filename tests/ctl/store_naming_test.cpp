// Which store each program says it uses: `webhookctl check-config` and the start-up log
// line of webhook-poller and webhook-dispatcher, run as real processes on a SQLite file and
// on the throwaway PostgreSQL cluster, with a password in the URL and in PGPASSWORD that
// none of them may print.
#include <gtest/gtest.h>

#include <signal.h>

#include <map>
#include <string>

#include "tests/support/child_process.h"
#include "tests/support/postgres_cluster.h"
#include "tests/support/temp_dir.h"

namespace webhook::ctl {
namespace {

using testing::ChildProcess;
using testing::eventually;
using testing::run_command;
using testing::TempDir;

const std::string kCtl = WEBHOOK_BINARY_DIR "/ctl/webhookctl";
const std::string kPoller = WEBHOOK_BINARY_DIR "/poller/webhook-poller";
const std::string kDispatcher = WEBHOOK_BINARY_DIR "/dispatcher/webhook-dispatcher";
constexpr const char* kUrlPassword = "url-pw-5b1e";
constexpr const char* kEnvPassword = "env-pw-77c0";

// Settings every program accepts; OpenCTI at a closed port (the poller keeps retrying).
std::map<std::string, std::string> base_env(const TempDir& dir) {
  return {{"OPENCTI_URL", "http://127.0.0.1:9"},
          {"OPENCTI_TOKEN", "naming-test-token"},
          {"OPENCTI_JSON_LOGGING", "false"},
          {"WEBHOOK_GRAPHQL_QUERY", "{{works{{edges{{node{{id}}}}}}}}"},
          {"WEBHOOK_GRAPHQL_RETURNED_DATA_LOCATION", "['data']['works']['edges']"},
          {"WEBHOOK_URL", "http://127.0.0.1:9/hook?id={item['node']['id']}"},
          {"WEBHOOK_GRAPHQL_POLLING_INTERVAL", "3600"},
          {"WEBHOOK_DATABASE_PATH", dir.file("webhook.db")}};
}

// The cluster's fresh database with a password in its URL (the cluster trusts loopback, so
// it is accepted and ignored) and another in PGPASSWORD; returns the masked form.
std::string use_postgres(std::map<std::string, std::string>& env) {
  std::string url = testing::PostgresCluster::shared().fresh_database();
  const std::string masked =
      "PostgreSQL " + std::string(url).replace(url.find("webhook@"), 8, "webhook:***@");
  url.replace(url.find("webhook@"), 8, std::string("webhook:") + kUrlPassword + "@");
  env["WEBHOOK_DATABASE_URL"] = url;
  env["PGPASSWORD"] = kEnvPassword;
  return masked;
}

void expect_no_password(const std::string& text) {
  EXPECT_EQ(text.find(kUrlPassword), std::string::npos) << text;
  EXPECT_EQ(text.find(kEnvPassword), std::string::npos) << text;
}

TEST(StoreNaming, CheckConfigNamesTheFileOrTheServerWithoutThePassword) {
  TempDir dir;
  auto env = base_env(dir);
  auto file = run_command({kCtl, "check-config", "--quiet"}, env);
  ASSERT_EQ(file.exit_code, 0) << file.err;
  EXPECT_NE(file.out.find("store: SQLite file " + dir.file("webhook.db") + "\n"), std::string::npos)
      << file.out;

  const std::string masked = use_postgres(env);
  for (const bool quiet : {true, false}) {
    auto server = run_command(quiet ? std::vector<std::string>{kCtl, "check-config", "--quiet"}
                                    : std::vector<std::string>{kCtl, "check-config"},
                              env);
    ASSERT_EQ(server.exit_code, 0) << server.err;
    EXPECT_NE(server.out.find("store: " + masked + "\n"), std::string::npos) << server.out;
    EXPECT_EQ(server.out.find("store: SQLite"), std::string::npos) << server.out;
    expect_no_password(server.out + server.err);
  }
}

// A URL libpq cannot read stops all three with exit 2 and one line naming the setting.
TEST(StoreNaming, AMalformedUrlIsExitTwoEverywhereWithoutThePassword) {
  TempDir dir;
  auto env = base_env(dir);
  env["WEBHOOK_DATABASE_URL"] =
      std::string("postgresql://webhook:") + kUrlPassword + "@127.0.0.1:9/db?no_such_option=1";
  for (const std::vector<std::string>& argv :
       {std::vector<std::string>{kCtl, "check-config", "--quiet"},
        std::vector<std::string>{kPoller, "--once"},
        std::vector<std::string>{kDispatcher, "--once"}}) {
    SCOPED_TRACE(argv[0]);
    auto r = run_command(argv, env);
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_NE(r.err.find("WEBHOOK_DATABASE_URL: not a PostgreSQL connection URI"),
              std::string::npos)
        << r.err;
    EXPECT_EQ(r.out.find("configuration OK"), std::string::npos) << r.out;
    expect_no_password(r.out + r.err);
  }
}

// Runs `program` until its start-up line names `store`, then stops it with SIGTERM.
void expect_start_up_names(const std::string& program, const std::string& line,
                           const std::map<std::string, std::string>& env, const std::string& store,
                           const TempDir& dir) {
  SCOPED_TRACE(program);
  ChildProcess process({program}, env, dir.file(program.substr(program.rfind('/') + 1) + ".log"));
  ASSERT_TRUE(eventually([&] {
    const std::string out = process.output();
    const std::size_t at = out.find(line);
    return at != std::string::npos && out.find(store, at) != std::string::npos;
  })) << process.output();
  process.signal(SIGTERM);
  EXPECT_TRUE(process.wait_for(std::chrono::seconds(20)).has_value()) << process.output();
  expect_no_password(process.output());
}

TEST(StoreNaming, ThePollerAndTheDispatcherLogTheStoreTheyUseAtStart) {
  for (const bool server : {false, true}) {
    SCOPED_TRACE(server ? "PostgreSQL" : "SQLite");
    TempDir dir;
    auto env = base_env(dir);
    const std::string store = server ? use_postgres(env) : "SQLite file " + dir.file("webhook.db");
    expect_start_up_names(kPoller, "polling", env, "store=" + store, dir);
    expect_start_up_names(kDispatcher, "job store open", env, "store=" + store, dir);
  }
}

}  // namespace
}  // namespace webhook::ctl
