#include "poller/sendable_url.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/child_process.h"

namespace webhook::poller {
namespace {

struct Case {
  const char* rendered;
  const char* sendable;
};

TEST(SendableUrl, EncodesWhatMayNotAppearAndKeepsDelimiters) {
  const Case cases[] = {
      {"http://localhost?connector_name=Import&messages=[{'message': 'imported 24 objects'}]",
       "http://localhost?connector_name=Import&messages=%5B%7B'message':%20'imported%2024%20"
       "objects'%7D%5D"},
      {"http://h/p?a=1&b=2;c=3+4@x:y/z#frag", "http://h/p?a=1&b=2;c=3+4@x:y/z#frag"},
      {"http://h/?q=\"x\" <y> |z| \\ ^ `",
       "http://h/?q=%22x%22%20%3Cy%3E%20%7Cz%7C%20%5C%20%5E%20%60"},
      {"http://h/?already=%2F%3d&bad=%zz&end=%", "http://h/?already=%2F%3d&bad=%25zz&end=%25"},
      {"http://h/?name=Zoë ✓", "http://h/?name=Zo%C3%AB%20%E2%9C%93"},
      {"http://h/?t=a\tb\nc\x7f", "http://h/?t=a%09b%0Ac%7F"},
      {"http://[::1]:8080/x?l=[1]", "http://[::1]:8080/x?l=%5B1%5D"},
      {"http://h/!$'()*,~-._", "http://h/!$'()*,~-._"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(percent_encode_url(c.rendered), c.sendable) << c.rendered;
    SendableUrl url = make_sendable_url(c.rendered);
    EXPECT_TRUE(url.ok()) << c.rendered << ": " << url.error;
    EXPECT_EQ(url.url, c.sendable);
  }
}

TEST(SendableUrl, RejectsWhatIsNotAnAbsoluteHttpUrl) {
  const char* bad[] = {
      "localhost?x=1", "/relative/path",      "ftp://h/file", "mailto:a@b.c", "http://", "",
      "None",          "http:// spaced host/"};
  for (const char* rendered : bad) {
    SendableUrl url = make_sendable_url(rendered);
    EXPECT_FALSE(url.ok()) << "accepted: " << rendered << " as " << url.url;
    EXPECT_TRUE(url.url.empty());
  }
  EXPECT_NE(make_sendable_url("ftp://h/file").error.find("expected http or https"),
            std::string::npos);
  EXPECT_TRUE(make_sendable_url("HTTPS://Example.org:8443/a").ok());
}

// Once an origin is accepted, later URLs with that origin skip curl's parse: that shortcut
// must neither accept a different, bad origin nor let a URL's rest slip through unencoded.
TEST(SendableUrl, AnAcceptedOriginStillLeavesOtherOriginsChecked) {
  ASSERT_TRUE(make_sendable_url("http://receiver:8080/a?x=1").ok());
  SendableUrl same = make_sendable_url("http://receiver:8080/b?x=a b\n");
  EXPECT_TRUE(same.ok()) << same.error;
  EXPECT_EQ(same.url, "http://receiver:8080/b?x=a%20b%0A");
  for (const char* other : {"http://receiver:99999/a", "http://receiver:8080@/a",
                            "ftp://receiver:8080/a", "http://re ceiver:8080/a"}) {
    EXPECT_FALSE(make_sendable_url(other).ok()) << other;
    EXPECT_TRUE(make_sendable_url("http://receiver:8080/again").ok());
  }
}

// CPython's urllib.parse.quote with the reserved delimiters kept and %XX escapes left
// alone is the issue's rule; compare on inputs a rendered template routinely produces.
TEST(SendableUrl, MatchesThePythonRuleOnRenderedValues) {
  nlohmann::json inputs = {
      "http://localhost?connector_name=OpenCTI Importer&messages=[{'message': 'done'}, "
      "{'message': 'imported 24 objects'}]",
      "http://localhost?email=jane.doe+test@example.org",
      "http://localhost?confidence=None&name=Ünïcödé 名前 😀",
      "http://h/path with space/{x}?q=100%&r=%41%4a%4G",
      "http://h/?json={\"a\": [1, 2], \"b\": \"c|d\"}",
      "http://h/?ctrl=\x01\x02\x1f&tilde=~&caret=^&back=`",
  };
  const char* script = R"PY(
import json, re, sys
from urllib.parse import quote
out = []
for u in json.load(sys.stdin):
    parts = re.split(r'(%[0-9A-Fa-f]{2})', u)
    out.append(''.join(p if i % 2 else quote(p, safe="!#$&'()*+,/:;=?@~") for i, p in enumerate(parts)))
print(json.dumps(out))
)PY";
  auto result = testing::run_command({"python3", "-c", script}, {}, inputs.dump());
  ASSERT_EQ(result.exit_code, 0) << result.err;
  auto expected = nlohmann::json::parse(result.out);
  ASSERT_EQ(expected.size(), inputs.size());
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    EXPECT_EQ(percent_encode_url(inputs[i].get<std::string>()), expected[i].get<std::string>());
  }
}

}  // namespace
}  // namespace webhook::poller
