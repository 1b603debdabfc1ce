// The real webhook-poller against a fake OpenCTI, on the two ways issue 21 found for the
// OpenCTI token and headers to go where they must not: line breaks that add header lines
// (item 9), and an error body that echoes the token across the edge of the excerpt kept in
// `polls.error` and the log (item 10).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "common/store/job_store.h"
#include "tests/poller/poller_test_env.h"
#include "tests/support/child_process.h"

namespace webhook::poller::testing {
namespace {

using webhook::testing::FakeOpenctiOptions;
using webhook::testing::run_command;
using webhook::testing::TempDir;

const std::string kPoller = WEBHOOK_BINARY_DIR "/poller/webhook-poller";
const std::string kCtl = WEBHOOK_BINARY_DIR "/ctl/webhookctl";

std::size_t lines_of(const std::string& text) {
  std::size_t n = 0;
  for (char c : text) n += c == '\n' ? 1 : 0;
  return n;
}

// Every beginning of `secret` of at least 4 bytes that occurs in `text`, for messages.
std::string secret_pieces_in(const std::string& text, const std::string& secret) {
  std::string found;
  for (std::size_t n = 4; n <= secret.size(); ++n) {
    if (text.find(secret.substr(0, n)) != std::string::npos) found = secret.substr(0, n);
  }
  return found;
}

// Issue 21 item 9: CR or LF in OPENCTI_TOKEN or OPENCTI_CUSTOM_HEADERS reached OpenCTI as
// extra header lines (`X-Evil-From-Token: 1`).
TEST(PollerSecrets, ALineBreakInTheTokenOrCustomHeadersIsExit2AndNothingIsSent) {
  FakeOpencti fake;
  struct Case {
    std::string setting;
    std::string value;
  };
  const std::vector<Case> cases = {
      {"OPENCTI_TOKEN", fake.token() + "\r\nX-Evil-From-Token: 1"},
      {"OPENCTI_TOKEN", fake.token() + "\nX-Evil-From-Token: 1"},
      {"OPENCTI_TOKEN", fake.token() + "\r\n"},
      {"OPENCTI_CUSTOM_HEADERS", "X-Tenant: a\r\nX-Evil-From-Headers: 1"},
      {"OPENCTI_CUSTOM_HEADERS", "X-Tenant: a;X-B: b\nX-Evil-From-Headers: 1"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.setting + " with " + std::to_string(c.value.size()) + " bytes");
    TempDir dir;
    auto env = poller_process_env(fake, dir, {{c.setting, c.value}});
    for (const std::vector<std::string>& argv : {std::vector<std::string>{kPoller, "--once"},
                                                 {kPoller, "--check-config"},
                                                 {kCtl, "check-config", "--quiet"}}) {
      SCOPED_TRACE(argv[0] + " " + argv[1]);
      auto r = run_command(argv, env);
      EXPECT_EQ(r.exit_code, 2) << r.err;
      EXPECT_EQ(lines_of(r.err), 1u) << r.err;
      EXPECT_NE(r.err.find(c.setting + " (environment): expected a single line"), std::string::npos)
          << r.err;
      EXPECT_EQ(secret_pieces_in(r.out + r.err, fake.token()), "") << r.out << r.err;
    }
    EXPECT_EQ(fake.request_count(), 0u);
    EXPECT_FALSE(std::filesystem::exists(dir.file("webhook.db")));
  }
  for (const auto& request : fake.requests()) {
    EXPECT_EQ(request.headers.count("x-evil-from-token"), 0u);
    EXPECT_EQ(request.headers.count("x-evil-from-headers"), 0u);
  }
}

// The same settings without the line break work: the fake sees the token and the header,
// so the test above would see an injected header if one were sent.
TEST(PollerSecrets, TheTokenAndCustomHeadersReachOpencti) {
  FakeOpencti fake;
  TempDir dir;
  auto env = poller_process_env(fake, dir, {{"OPENCTI_CUSTOM_HEADERS", "X-Tenant: a"}});
  auto r = run_command({kPoller, "--once"}, env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_GE(fake.request_count(), 1u);
  auto request = fake.requests().back();
  EXPECT_EQ(request.headers["authorization"], "Bearer " + fake.token());
  EXPECT_EQ(request.headers["x-tenant"], "a");
}

// Issue 21 item 10: an error body that echoes the token across the 200-byte excerpt's edge
// left `Bearer SECRETTO...` in polls.error and the log. The token is placed at every offset
// around the edge, whole and as a beginning the server cut itself.
TEST(PollerSecrets, NoPieceOfTheTokenSurvivesAnErrorBodyThatEchoesIt) {
  FakeOpenctiOptions options;
  options.token = "SECRETTOKEN-4b1f9e0c7a";
  FakeOpencti fake(options);
  TempDir dir;
  const std::string token = fake.token();
  const std::size_t edge = 200;
  std::vector<std::string> bodies;
  for (std::size_t at = edge - token.size() - 2; at <= edge + 2; ++at) {
    std::string head = "upstream refused Authorization: Bearer ";
    std::string filler(at - std::min(at, head.size()), '.');
    std::string prefix = (head + filler).substr(0, at);
    bodies.push_back(prefix + token + " (request rejected)");  // the whole token
    bodies.push_back(prefix + token.substr(0, 12));            // cut by the server
  }
  auto env = poller_process_env(fake, dir);
  for (const auto& body : bodies) {
    FakeFailure failure = FakeFailure::http_status(500);
    failure.body = body;
    failure.field = "works";
    fake.fail_next(failure);
    auto r = run_command({kPoller, "--once"}, env);
    ASSERT_EQ(r.exit_code, 1) << r.err;
    ASSERT_NE(r.err.find("HTTP 500"), std::string::npos) << r.err;
    EXPECT_EQ(secret_pieces_in(r.out + r.err, token), "") << r.err;
  }
  auto store = open_store(dir.file("webhook.db"));
  auto polls = store->list_polls(std::nullopt, 1000);
  ASSERT_EQ(polls.size(), bodies.size());
  for (const auto& poll : polls) {
    EXPECT_NE(poll.record.error.find("HTTP 500"), std::string::npos) << poll.record.error;
    EXPECT_EQ(secret_pieces_in(poll.record.error, token), "") << poll.record.error;
  }
}

}  // namespace
}  // namespace webhook::poller::testing
