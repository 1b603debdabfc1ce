// The delivery console in a real browser: Debian's headless Chromium, driven by Playwright
// (tests/browser/console.cjs), against `webhookctl serve` running as a real process on a
// free loopback port over a seeded SQLite file. Chromium failing to start fails the test.
// Also writes the README's screenshots (build/docs/console-*.png; `make console-screenshots`
// copies them to docs/).
#include <gtest/gtest.h>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <csignal>
#include <filesystem>
#include <map>
#include <regex>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "tests/support/child_process.h"
#include "tests/support/console_seed.h"
#include "tests/support/store_fixtures.h"
#include "tests/support/temp_dir.h"

namespace webhook {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

const std::string kCtl = WEBHOOK_BINARY_DIR "/ctl/webhookctl";
const std::string kScript = WEBHOOK_SOURCE_DIR "/tests/browser/console.cjs";
const std::string kNodeModules = WEBHOOK_BINARY_DIR "/browser/node_modules";
const std::string kShots = WEBHOOK_BINARY_DIR "/docs";
constexpr const char* kToken = "browser-test-token-8d1";

class ConsoleBrowserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(std::filesystem::exists("/usr/bin/chromium"))
        << "Chromium is missing: run scripts/install-deps.sh";
    ASSERT_TRUE(std::filesystem::exists(kNodeModules + "/playwright-core"))
        << "playwright-core is missing: the build runs npm ci in build/browser";
    std::filesystem::create_directories(kShots);
    seed_ = testing::seed_console_store(*testing::open_test_store(db_), SystemClock().now_ms());
    serve_ = std::make_unique<testing::ChildProcess>(
        std::vector<std::string>{kCtl, "serve", "--listen", "127.0.0.1:0", "--database", db_},
        std::map<std::string, std::string>{{"WEBHOOK_CONSOLE_TOKEN", kToken}},
        dir_.file("serve.log"));
    std::smatch m;
    static const std::regex kLine(R"(delivery console on (http://127\.0\.0\.1:\d+)/)");
    std::string out;
    ASSERT_TRUE(testing::eventually([&] {
      out = serve_->output();
      return std::regex_search(out, m, kLine);
    })) << out;
    base_ = m[1];
  }

  void TearDown() override {
    if (!serve_) return;
    serve_->signal(SIGTERM);
    EXPECT_EQ(serve_->wait_for(20s), 0) << serve_->output();
  }

  // Runs one step of console.cjs and returns the JSON it printed.
  json step(std::vector<std::string> args) {
    args.insert(args.begin(), {"node", kScript});
    args.insert(args.begin() + 3, base_);
    auto r = testing::run_command(args, {{"NODE_PATH", kNodeModules}, {"HOME", dir_.path()}});
    EXPECT_EQ(r.exit_code, 0) << "browser step " << args[2] << " failed:\n" << r.err << r.out;
    if (r.exit_code != 0) return json();
    auto out = json::parse(r.out, nullptr, false);
    EXPECT_FALSE(out.is_discarded()) << r.out;
    EXPECT_TRUE(out["errors"].empty()) << out["errors"];
    return out;
  }

  store::JobState state_of(const std::string& id) {
    return testing::open_test_store(db_)->job(id)->job.state;
  }

  testing::TempDir dir_;
  std::string db_ = dir_.file("queue.db");
  testing::ConsoleSeed seed_;
  std::unique_ptr<testing::ChildProcess> serve_;
  std::string base_;
};

TEST_F(ConsoleBrowserTest, OverviewCountsEqualTheDatabase) {
  json seen = step({"overview", kShots + "/console-overview.png"});
  ASSERT_TRUE(seen.is_object());
  std::map<std::pair<std::string, std::string>, int64_t> shown;
  for (const auto& c : seen["counts"]) shown[{c[0], c[1]}] = c[2];
  std::map<std::pair<std::string, std::string>, int64_t> stored;
  std::map<std::string, int64_t> totals;
  SQLite::Database db(db_);
  SQLite::Statement q(db, "SELECT feed, state, count(*) FROM jobs GROUP BY feed, state");
  while (q.executeStep()) {
    stored[{q.getColumn(0).getString(), q.getColumn(1).getString()}] = q.getColumn(2).getInt64();
    totals[q.getColumn(1).getString()] += q.getColumn(2).getInt64();
  }
  for (const auto& [key, n] : shown) {
    auto it = stored.find(key);
    EXPECT_EQ(n, it == stored.end() ? 0 : it->second) << key.first << " " << key.second;
  }
  EXPECT_EQ(shown.size(), 12u) << "two feeds, six states each";
  for (const auto& t : seen["totals"]) EXPECT_EQ(t[1], totals[t[0]]) << t[0];
  EXPECT_TRUE(std::filesystem::file_size(kShots + "/console-overview.png") > 10000);
}

TEST_F(ConsoleBrowserTest, ADeadJobFoundFromTheListShowsItsAttempts) {
  json seen = step({"find-dead", kShots + "/console-job.png"});
  ASSERT_TRUE(seen.is_object());
  EXPECT_EQ(seen["id"], seed_.dead_job);
  EXPECT_EQ(seen["state"], "dead");
  ASSERT_EQ(seen["attempts"].size(), 4u);
  SQLite::Database db(db_);
  SQLite::Statement q(db,
                      "SELECT a.number, a.duration_ms, a.worker FROM attempts a JOIN jobs j ON "
                      "j.seq = a.job_seq WHERE j.id = ? ORDER BY a.number");
  q.bind(1, seed_.dead_job);
  for (const auto& row : seen["attempts"]) {
    ASSERT_TRUE(q.executeStep());
    EXPECT_EQ(row[0], q.getColumn(0).getString());
    EXPECT_EQ(row[2], q.getColumn(1).getString() + " ms");
    EXPECT_EQ(row[5], q.getColumn(2).getString());
  }
  EXPECT_NE(seen["attempts"][2][4].get<std::string>().find("Timeout was reached"),
            std::string::npos);
}

TEST_F(ConsoleBrowserTest, RetryFromThePageNeedsTheToken) {
  json refused = step({"retry", seed_.dead_job, "-"});
  ASSERT_TRUE(refused.is_object());
  EXPECT_EQ(refused["status"], 401);
  EXPECT_NE(refused["notice"].get<std::string>().find("needs the console token"),
            std::string::npos);
  EXPECT_EQ(state_of(seed_.dead_job), store::JobState::kDead) << "nothing changed";

  json wrong = step({"retry", seed_.dead_job, "not-the-token"});
  ASSERT_TRUE(wrong.is_object());
  EXPECT_EQ(wrong["signIn"], 403);
  EXPECT_NE(wrong["notice"].get<std::string>().find("wrong console token"), std::string::npos);
  EXPECT_EQ(state_of(seed_.dead_job), store::JobState::kDead);

  json done = step({"retry", seed_.dead_job, kToken});
  ASSERT_TRUE(done.is_object());
  EXPECT_EQ(done["status"], 200);
  EXPECT_EQ(done["state"], "pending");
  EXPECT_NE(done["notice"].get<std::string>().find("Job requeued"), std::string::npos);
  EXPECT_EQ(state_of(seed_.dead_job), store::JobState::kPending);
}

TEST_F(ConsoleBrowserTest, AMarkupLadenRecordIsShownAsText) {
  json seen = step({"markup", seed_.markup_job});
  ASSERT_TRUE(seen.is_object());
  EXPECT_TRUE(seen["xss"].is_null()) << "a script from the record ran";
  EXPECT_EQ(seen["images"], 0);
  EXPECT_EQ(seen["scripts"], json::array({"/console.js"}));
  EXPECT_NE(seen["body"].get<std::string>().find(testing::kScriptMarkup), std::string::npos);
  EXPECT_NE(seen["body"].get<std::string>().find(testing::kAttributeMarkup), std::string::npos);
  EXPECT_NE(seen["requestLine"].get<std::string>().find(testing::kAttributeMarkup),
            std::string::npos);
  EXPECT_NE(seen["response"].get<std::string>().find("<h1>Bad request</h1>"), std::string::npos);
  EXPECT_EQ(seen["headers"][1], std::string("X-") + testing::kAttributeMarkup);
}

}  // namespace
}  // namespace webhook
