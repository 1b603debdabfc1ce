// The console's repairs over loopback against a real SQLite store: read-only without
// WEBHOOK_CONSOLE_TOKEN, 401/403 and the database unchanged with a missing or wrong token or
// CSRF token, and the change made with the right ones (bearer or the sign-in cookie).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/ctl/console/console_test_server.h"

namespace webhook::ctl::console {
namespace {

using nlohmann::json;
using store::JobState;

constexpr const char* kToken = "console-token-Zq7";

httplib::Headers bearer(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

// The Set-Cookie's name=value, as a browser would send it back.
std::string cookie_of(const httplib::Result& r) {
  std::string set = r->get_header_value("Set-Cookie");
  return set.substr(0, set.find(';'));
}

TEST(ConsoleReadOnlyTest, WithoutATokenTheConsoleSaysSoAndRefusesEveryAction) {
  ConsoleTestServer console(std::nullopt);
  const std::string dead = console.seed().dead_job;
  auto page = console.get("/jobs/" + dead);
  EXPECT_NE(page->body.find("id=\"read-only\""), std::string::npos);
  EXPECT_EQ(page->body.find("/retry\""), std::string::npos) << "no retry form when read-only";
  for (const auto& headers : {httplib::Headers{}, bearer(kToken), bearer("")}) {
    auto r = console.post("/jobs/" + dead + "/retry", {{"csrf", csrf_of(page->body)}}, headers);
    EXPECT_EQ(r->status, 403);
    EXPECT_NE(r->body.find("read-only"), std::string::npos);
    auto api = console.post("/api/jobs/" + dead + "/retry", {}, headers);
    EXPECT_EQ(api->status, 403);
    EXPECT_NE(json::parse(api->body)["error"].get<std::string>().find("WEBHOOK_CONSOLE_TOKEN"),
              std::string::npos);
  }
  EXPECT_EQ(console.post("/login", {{"token", kToken}, {"csrf", csrf_of(page->body)}})->status,
            403);
  EXPECT_EQ(console.row(dead).state, JobState::kDead);
  EXPECT_EQ(console.row(dead).attempts, 4);
}

class ConsoleActionsTest : public ::testing::Test {
 protected:
  ConsoleTestServer console_{kToken};
  const std::string dead_ = console_.seed().dead_job;
};

TEST_F(ConsoleActionsTest, MissingOrWrongTokenIsRefusedAndChangesNothing) {
  const std::string retry = "/api/jobs/" + dead_ + "/retry";
  auto missing = console_.post(retry, {});
  EXPECT_EQ(missing->status, 401);
  EXPECT_EQ(missing->get_header_value("WWW-Authenticate"), "Bearer");
  EXPECT_EQ(console_.post(retry, {}, bearer("console-token-Zq8"))->status, 403);
  EXPECT_EQ(console_.post(retry, {}, bearer(std::string(kToken) + "x"))->status, 403);
  EXPECT_EQ(console_.post(retry, {}, {{"Authorization", std::string("Basic ") + kToken}})->status,
            403);
  EXPECT_EQ(console_.post(retry, {}, {{"Cookie", std::string(kSessionCookie) + "=forged"}})->status,
            403);
  // The form routes answer the same, as pages.
  auto form = console_.post("/jobs/" + dead_ + "/retry", {});
  EXPECT_EQ(form->status, 401);
  EXPECT_NE(form->body.find("needs the console token"), std::string::npos);
  EXPECT_EQ(console_.post("/feeds/indicators/retry-dead", {})->status, 401);
  EXPECT_EQ(console_.post("/feeds/indicators/rewind", {{"to", "0"}})->status, 401);
  EXPECT_EQ(console_.post("/jobs/" + console_.seed().pending_job + "/cancel", {})->status, 401);

  EXPECT_EQ(console_.row(dead_).state, JobState::kDead);
  EXPECT_EQ(console_.row(console_.seed().pending_job).state, JobState::kPending);
  auto status = json::parse(console_.get("/api/status")->body);
  EXPECT_EQ(status["feeds"][0]["counts"]["dead"], 1);
  EXPECT_EQ(status["feeds"][0]["cursor"],
            json::parse(console_.get("/api/status")->body)["feeds"][0]["cursor"]);
}

TEST_F(ConsoleActionsTest, RightBearerTokenRetriesADeadJob) {
  auto r = console_.post("/api/jobs/" + dead_ + "/retry", {}, bearer(kToken));
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(json::parse(r->body)["requeued"], 1);
  auto row = console_.row(dead_);
  EXPECT_EQ(row.state, JobState::kPending);
  EXPECT_EQ(row.attempts, 0);
  // Again: it is pending now, which cannot be retried.
  auto again = console_.post("/api/jobs/" + dead_ + "/retry", {}, bearer(kToken));
  EXPECT_EQ(again->status, 409);
  EXPECT_NE(json::parse(again->body)["error"].get<std::string>().find("is pending"),
            std::string::npos);
  EXPECT_EQ(console_.post("/api/jobs/nope/retry", {}, bearer(kToken))->status, 404);
}

TEST_F(ConsoleActionsTest, SignInSetsAStrictHttpOnlyCookieAndFormsNeedTheCsrfToken) {
  auto anonymous = console_.get("/jobs/" + dead_);
  EXPECT_EQ(anonymous->body.find("id=\"read-only\""), std::string::npos);
  EXPECT_NE(anonymous->body.find("action=\"/jobs/" + dead_ + "/retry\""), std::string::npos);
  EXPECT_NE(anonymous->body.find("sign in (top right) to repair"), std::string::npos);

  // Signing in needs the page's CSRF token and the right token.
  EXPECT_EQ(console_.post("/login", {{"token", kToken}})->status, 403);
  auto wrong = console_.post("/login", {{"token", "nope"}, {"csrf", csrf_of(anonymous->body)}});
  EXPECT_EQ(wrong->status, 403);
  EXPECT_FALSE(wrong->has_header("Set-Cookie"));
  auto login = console_.post(
      "/login",
      {{"token", kToken}, {"csrf", csrf_of(anonymous->body)}, {"return", "/jobs/" + dead_}});
  ASSERT_EQ(login->status, 303);
  EXPECT_EQ(login->get_header_value("Location"), "/jobs/" + dead_ + "?notice=signed-in");
  std::string set = login->get_header_value("Set-Cookie");
  EXPECT_NE(set.find("HttpOnly"), std::string::npos);
  EXPECT_NE(set.find("SameSite=Strict"), std::string::npos);
  EXPECT_EQ(set.find(kToken), std::string::npos) << "the cookie holds no token";
  httplib::Headers cookie = {{"Cookie", cookie_of(login)}};

  auto page = console_.get("/jobs/" + dead_ + "?notice=signed-in", cookie);
  EXPECT_NE(page->body.find("Signed in"), std::string::npos);
  std::string csrf = csrf_of(page->body);
  ASSERT_FALSE(csrf.empty());
  EXPECT_NE(csrf, csrf_of(anonymous->body)) << "the CSRF token belongs to the session";

  // The cookie alone (what a cross-site form would carry) is not enough.
  EXPECT_EQ(console_.post("/jobs/" + dead_ + "/retry", {}, cookie)->status, 403);
  EXPECT_EQ(
      console_.post("/jobs/" + dead_ + "/retry", {{"csrf", csrf_of(anonymous->body)}}, cookie)
          ->status,
      403);
  EXPECT_EQ(console_.row(dead_).state, JobState::kDead);
  // Nor a request from another origin, even with the token.
  httplib::Headers foreign = cookie;
  foreign.emplace("Origin", "https://evil.example");
  EXPECT_EQ(console_.post("/jobs/" + dead_ + "/retry", {{"csrf", csrf}}, foreign)->status, 403);
  EXPECT_EQ(console_.row(dead_).state, JobState::kDead);

  auto retried = console_.post("/jobs/" + dead_ + "/retry", {{"csrf", csrf}}, cookie);
  ASSERT_EQ(retried->status, 303) << retried->body;
  EXPECT_EQ(retried->get_header_value("Location"), "/jobs/" + dead_ + "?notice=retried");
  EXPECT_EQ(console_.row(dead_).state, JobState::kPending);

  auto logout = console_.post("/logout", {{"csrf", csrf}}, cookie);
  ASSERT_EQ(logout->status, 303);
  EXPECT_NE(logout->get_header_value("Set-Cookie").find("Max-Age=0"), std::string::npos);
}

TEST_F(ConsoleActionsTest, SignInReturnsOnlyToThisConsole) {
  std::string csrf = csrf_of(console_.get("/")->body);
  for (const char* target : {"//evil.example/", "https://evil.example/", "/\\evil.example"}) {
    auto r = console_.post("/login", {{"token", kToken}, {"csrf", csrf}, {"return", target}});
    ASSERT_EQ(r->status, 303);
    EXPECT_EQ(r->get_header_value("Location"), "/?notice=signed-in") << target;
    EXPECT_EQ(r->get_header_value("Set-Cookie").find("Secure"), std::string::npos);
  }
  // Behind a TLS proxy the cookie is only ever sent over TLS.
  auto proxied = console_.post("/login", {{"token", kToken}, {"csrf", csrf}},
                               {{"X-Forwarded-Proto", "https"}});
  EXPECT_NE(proxied->get_header_value("Set-Cookie").find("; Secure"), std::string::npos);
}

TEST_F(ConsoleActionsTest, CancelRetryDeadAndRewindWithTheToken) {
  const std::string pending = console_.seed().pending_job;
  auto cancel = console_.post("/api/jobs/" + pending + "/cancel", {}, bearer(kToken));
  ASSERT_EQ(cancel->status, 200) << cancel->body;
  EXPECT_EQ(console_.row(pending).state, JobState::kCancelled);
  EXPECT_EQ(console_.post("/api/jobs/" + pending + "/cancel", {}, bearer(kToken))->status, 409);

  auto dead = console_.post("/api/feeds/reports/retry-dead", {}, bearer(kToken));
  ASSERT_EQ(dead->status, 200);
  EXPECT_EQ(json::parse(dead->body)["requeued"], 1);  // the markup job
  EXPECT_EQ(console_.row(console_.seed().markup_job).state, JobState::kPending);
  EXPECT_EQ(console_.row(dead_).state, JobState::kDead) << "another feed's";

  auto bad = console_.post("/api/feeds/indicators/rewind", {{"to", "yesterday"}}, bearer(kToken));
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(console_.post("/api/feeds/unknown/rewind", {{"to", "0"}}, bearer(kToken))->status, 404);
  auto rewind =
      console_.post("/feeds/indicators/rewind", {{"to", "2024-05-01T12:00:00Z"}}, bearer(kToken));
  ASSERT_EQ(rewind->status, 303);
  auto status = json::parse(console_.get("/api/status")->body);
  EXPECT_EQ(status["feeds"][0]["feed"], "indicators");
  EXPECT_EQ(status["feeds"][0]["cursor"]["utc"], "2024-05-01T12:00:00.000Z");
}

TEST_F(ConsoleActionsTest, RewindMovesAStreamFeedsCursorToAStreamIdOrATime) {
  store::StreamCommit c;
  c.feed = "live";
  c.new_cursor = "1700000009000-4";
  c.heartbeats = 1;
  c.now = console_.now();
  ASSERT_TRUE(testing::open_test_store(console_.db())->commit_stream(c));
  auto cursor = [&] { return testing::open_test_store(console_.db())->stream_cursor("live"); };

  auto api = console_.post("/api/feeds/live/rewind", {{"to", "1700000001000-2"}}, bearer(kToken));
  ASSERT_EQ(api->status, 200) << api->body;
  EXPECT_EQ(json::parse(api->body)["rewound"], 1);
  EXPECT_EQ(cursor(), "1700000001000-2");
  auto form = console_.post("/feeds/live/rewind", {{"to", "2023-11-14T22:13:20Z"}}, bearer(kToken));
  ASSERT_EQ(form->status, 303);
  EXPECT_EQ(cursor(), "1700000000000-0");

  auto bad = console_.post("/api/feeds/live/rewind", {{"to", "17-x"}}, bearer(kToken));
  EXPECT_EQ(bad->status, 400);
  EXPECT_NE(bad->body.find("stream id"), std::string::npos) << bad->body;
  auto polling = console_.post("/api/feeds/indicators/rewind", {{"to", "1-0"}}, bearer(kToken));
  EXPECT_EQ(polling->status, 400) << polling->body;
  EXPECT_EQ(console_.post("/api/feeds/unknown/rewind", {{"to", "1-0"}}, bearer(kToken))->status,
            404);
  EXPECT_EQ(cursor(), "1700000000000-0");
}

}  // namespace
}  // namespace webhook::ctl::console
