// The console's pages and /api answers, served over loopback from a real, seeded SQLite
// store: what they show, that markup from OpenCTI or a receiver stays text, and that no
// secret reaches a page.
#include <gtest/gtest.h>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <nlohmann/json.hpp>

#include "tests/ctl/console/console_test_server.h"
#include "tests/support/child_process.h"

namespace webhook::ctl::console {
namespace {

using nlohmann::json;

const std::string kCtl = WEBHOOK_BINARY_DIR "/ctl/webhookctl";

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

class ConsolePagesTest : public ::testing::Test {
 protected:
  ConsoleTestServer console_{std::nullopt};
};

TEST_F(ConsolePagesTest, OverviewCountsEqualTheDatabase) {
  auto r = console_.get("/");
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/html; charset=utf-8");
  SQLite::Database db(console_.db());
  SQLite::Statement q(db, "SELECT feed, state, count(*) FROM jobs GROUP BY feed, state");
  int checked = 0;
  while (q.executeStep()) {
    std::string cell = "data-feed=\"" + q.getColumn(0).getString() + "\" data-state=\"" +
                       q.getColumn(1).getString() + "\">" + q.getColumn(2).getString() + "<";
    EXPECT_NE(r->body.find(cell), std::string::npos) << cell;
    ++checked;
  }
  EXPECT_GE(checked, 7);
  EXPECT_NE(r->body.find("poller-1"), std::string::npos);
  EXPECT_NE(r->body.find("badge silent"), std::string::npos) << "dispatcher-2 is 20 min quiet";
  EXPECT_NE(r->body.find("<svg"), std::string::npos);
}

TEST_F(ConsolePagesTest, OverviewChartCountsTheLastHoursAttempts) {
  auto r = console_.get("/api/status");
  ASSERT_EQ(r->status, 200);
  auto status = json::parse(r->body);
  int64_t delivered = 0, failed = 0;
  for (const auto& m : status["attempts_per_minute"]) {
    if (m["feed"] != "indicators") continue;
    delivered += m["delivered"].get<int64_t>();
    failed += m["failed"].get<int64_t>();
  }
  EXPECT_EQ(delivered, 44);  // every seeded delivery, the first 58 minutes ago
  EXPECT_EQ(failed, 5 + 4);  // five 503s, then the dead job's four failures
  auto page = console_.get("/");
  EXPECT_NE(page->body.find("data-delivered=\"" + std::to_string(delivered) + "\" data-failed=\"" +
                            std::to_string(failed) + "\""),
            std::string::npos);
}

TEST_F(ConsolePagesTest, ApiStatusHasTheShapeOfWebhookctlStatusJson) {
  auto api = json::parse(console_.get("/api/status")->body);
  auto cli = testing::run_command({kCtl, "status", "--json", "--database", console_.db()});
  ASSERT_EQ(cli.exit_code, 0) << cli.err;
  auto ctl = json::parse(cli.out);
  EXPECT_EQ(api["feeds"], ctl["feeds"]);
  EXPECT_EQ(api["heartbeats"], ctl["heartbeats"]);
  ASSERT_EQ(api["workers"].size(), 3u);
}

TEST_F(ConsolePagesTest, JobsListFiltersByStateFeedAndTextAndPages) {
  auto dead = console_.get("/jobs?state=dead");
  ASSERT_EQ(dead->status, 200);
  EXPECT_NE(dead->body.find(console_.seed().dead_job), std::string::npos);
  EXPECT_NE(dead->body.find(console_.seed().markup_job), std::string::npos);
  EXPECT_EQ(dead->body.find(console_.seed().delivered_job), std::string::npos);

  auto api = json::parse(console_.get("/api/jobs?state=dead&feed=indicators")->body);
  ASSERT_EQ(api.size(), 1u);
  EXPECT_EQ(api[0]["id"], console_.seed().dead_job);
  EXPECT_EQ(api[0]["attempts"], 4);

  auto text = json::parse(console_.get("/api/jobs?q=SEQ%3D99")->body);  // any case
  ASSERT_EQ(text.size(), 1u);
  EXPECT_EQ(text[0]["id"], console_.seed().dead_job);

  // Newest first; "older" continues below the last row shown, until none is left.
  auto all = json::parse(console_.get("/api/jobs?feed=indicators&limit=1000")->body);
  ASSERT_EQ(all.size(), 49u);
  std::string path = "/jobs?feed=indicators&limit=20";
  std::vector<std::string> seen;
  for (int page = 0; page < 5 && !path.empty(); ++page) {
    auto r = console_.get(path);
    ASSERT_EQ(r->status, 200);
    for (const auto& j : all) {
      if (r->body.find("<tr data-id=\"" + j["id"].get<std::string>() + "\"") != std::string::npos)
        seen.push_back(j["id"]);
    }
    const std::string marker = "id=\"older\" href=\"";
    auto at = r->body.find(marker);
    path.clear();
    if (at != std::string::npos) {
      at += marker.size();
      path = r->body.substr(at, r->body.find('"', at) - at);
      for (auto amp = path.find("&amp;"); amp != std::string::npos; amp = path.find("&amp;"))
        path.replace(amp, 5, "&");
    }
  }
  ASSERT_EQ(seen.size(), all.size());
  for (std::size_t i = 0; i < all.size(); ++i) EXPECT_EQ(seen[i], all[i]["id"]) << i;
}

TEST_F(ConsolePagesTest, BadFiltersAreExplained) {
  auto r = console_.get("/jobs?state=lost");
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("state must be pending, running, delivered, dead or cancelled"),
            std::string::npos);
  auto api = console_.get("/api/jobs?limit=0");
  EXPECT_EQ(api->status, 400);
  EXPECT_NE(json::parse(api->body)["error"].get<std::string>().find("limit"), std::string::npos);
  EXPECT_EQ(console_.get("/jobs/00000000-0000-7000-8000-000000000000")->status, 404);
  EXPECT_EQ(console_.get("/api/jobs/424242")->status, 404);
  EXPECT_EQ(console_.get("/nowhere")->status, 404);
}

TEST_F(ConsolePagesTest, JobPageShowsTheRequestAndEveryAttempt) {
  auto r = console_.get("/jobs/" + console_.seed().dead_job);
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(count(r->body, "<tr class=\"attempt\">"), 4u);
  EXPECT_NE(r->body.find("POST https://hooks.example.org/opencti/indicators?seq=99"),
            std::string::npos);
  EXPECT_NE(r->body.find("Timeout was reached"), std::string::npos);
  EXPECT_NE(r->body.find("dispatcher-2"), std::string::npos);
  EXPECT_NE(r->body.find("311 ms"), std::string::npos);
  EXPECT_NE(r->body.find("&quot;database is locked&quot;"), std::string::npos);

  auto api = json::parse(console_.get("/api/jobs/" + console_.seed().dead_job)->body);
  auto cli = testing::run_command(
      {kCtl, "show", console_.seed().dead_job, "--json", "--database", console_.db()});
  ASSERT_EQ(cli.exit_code, 0) << cli.err;
  EXPECT_EQ(api, json::parse(cli.out));
  // By seq too, as webhookctl show.
  auto by_seq = console_.get("/api/jobs/" + std::to_string(api["seq"].get<int64_t>()));
  EXPECT_EQ(json::parse(by_seq->body)["id"], console_.seed().dead_job);
}

TEST_F(ConsolePagesTest, PollsPageShowsFailedPollsWithTheirReason) {
  auto r = console_.get("/polls?feed=indicators");
  ASSERT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("HTTP 502 Bad Gateway from https://opencti.example.org/graphql"),
            std::string::npos);
  EXPECT_EQ(r->body.find(">reports</a>"), std::string::npos);
  auto api = json::parse(console_.get("/api/polls?feed=indicators")->body);
  ASSERT_GE(api.size(), 40u);
  int failed = 0;
  for (const auto& p : api) failed += p["status"] == "failed";
  EXPECT_EQ(failed, 1);
}

TEST_F(ConsolePagesTest, MarkupInRecordsIsShownAsText) {
  const std::string id = console_.seed().markup_job;
  for (const std::string& path :
       std::vector<std::string>{"/jobs/" + id, "/jobs?feed=reports", "/jobs?state=dead", "/",
                                "/jobs?q=%3Cscript%3E", "/polls"}) {
    auto r = console_.get(path);
    ASSERT_EQ(r->status, 200) << path;
    EXPECT_EQ(r->body.find("<script>"), std::string::npos) << path;
    EXPECT_EQ(r->body.find("<img"), std::string::npos) << path;
    EXPECT_EQ(r->body.find("onerror=\""), std::string::npos) << path;
  }
  auto page = console_.get("/jobs/" + id)->body;
  EXPECT_NE(page.find("&lt;script&gt;window.__xss=1&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(page.find("&quot;&gt;&lt;img src=x onerror=&quot;window.__xss=2&quot;&gt;"),
            std::string::npos);
  EXPECT_NE(page.find("&lt;h1&gt;Bad request&lt;/h1&gt;"), std::string::npos);
  // The only scripts are the console's own file.
  EXPECT_EQ(count(page, "<script"), 1u);
  EXPECT_NE(page.find("<script src=\"/console.js\"></script>"), std::string::npos);
  auto r = console_.get("/jobs/" + id);
  EXPECT_NE(r->get_header_value("Content-Security-Policy").find("script-src 'self'"),
            std::string::npos);
  EXPECT_EQ(r->get_header_value("X-Content-Type-Options"), "nosniff");
}

TEST_F(ConsolePagesTest, SecretHeadersAndQueryValuesAreMasked) {
  const std::string id = console_.seed().secret_job;
  std::vector<std::string> bodies = {
      console_.get("/jobs/" + id)->body, console_.get("/api/jobs/" + id)->body,
      console_.get("/jobs?feed=reports")->body, console_.get("/api/jobs?feed=reports")->body};
  for (const auto& body : bodies) {
    for (const char* secret : testing::kSeedSecrets)
      EXPECT_EQ(body.find(secret), std::string::npos) << secret << " in\n" << body;
  }
  auto api = json::parse(bodies[1]);
  EXPECT_EQ(api["headers"]["Authorization"], "***");
  EXPECT_EQ(api["headers"]["Cookie"], "***");
  EXPECT_EQ(api["headers"]["X-Api-Key"], "***");
  EXPECT_EQ(api["headers"]["X-Auth-Token"], "***");
  EXPECT_EQ(api["headers"]["X-Password"], "***");
  EXPECT_EQ(api["headers"]["X-Client-Secret"], "***");
  EXPECT_EQ(api["headers"]["X-Trace"], "visible-trace-id");
  EXPECT_EQ(api["url"],
            "https://user:***@hooks.example.org/in?token=***&page=2&api_key=***&client_secret=***");
}

TEST_F(ConsolePagesTest, AssetsAreCompiledIn) {
  auto css = console_.get("/console.css");
  ASSERT_EQ(css->status, 200);
  EXPECT_EQ(css->get_header_value("Content-Type"), "text/css; charset=utf-8");
  EXPECT_NE(css->body.find(".badge"), std::string::npos);
  for (const std::string& path :
       std::vector<std::string>{"/", "/jobs", "/jobs/" + console_.seed().dead_job, "/polls"}) {
    auto page = console_.get(path)->body;
    EXPECT_EQ(page.find("src=\"http"), std::string::npos) << path << ": nothing from elsewhere";
    EXPECT_EQ(page.find("href=\"http"), std::string::npos) << path;
  }
}

}  // namespace
}  // namespace webhook::ctl::console
