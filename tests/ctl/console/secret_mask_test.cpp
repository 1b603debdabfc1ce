#include "ctl/console/secret_mask.h"

#include <gtest/gtest.h>

#include "ctl/console/html_text.h"

namespace webhook::ctl::console {
namespace {

TEST(SecretMaskTest, NamesThatLookSecret) {
  for (const char* name : {"Authorization", "cookie", "Set-Cookie", "X-Api-Key", "apikey",
                           "X-Auth-Token", "access_token", "client_secret", "PASSWORD", "x-passwd",
                           "webhook-signature", "Proxy-Authorization"}) {
    EXPECT_TRUE(looks_secret(name)) << name;
  }
  for (const char* name : {"Content-Type", "X-Trace", "page", "User-Agent", "id"}) {
    EXPECT_FALSE(looks_secret(name)) << name;
  }
}

TEST(SecretMaskTest, UrlsLoseUserPasswordsAndSecretQueryValues) {
  SecretMask mask;
  struct Case {
    const char* in;
    const char* out;
  } cases[] = {
      {"https://h/p?token=a&page=2", "https://h/p?token=***&page=2"},
      {"https://h/p?page=2&API_KEY=x#frag", "https://h/p?page=2&API_KEY=***#frag"},
      {"https://u:pw@h:8443/p?x=1", "https://u:***@h:8443/p?x=1"},
      {"https://u@h/p", "https://u@h/p"},
      {"https://h/p?flag&password=", "https://h/p?flag&password=***"},
      {"https://h/a@b?q=1", "https://h/a@b?q=1"},
      {"no url at all", "no url at all"},
  };
  for (const auto& c : cases) EXPECT_EQ(mask.url(c.in), c.out) << c.in;
}

TEST(SecretMaskTest, ConfiguredSecretsAreMaskedAnywhere) {
  SecretMask mask({"s3cr3t", "", "s3cr3t-longer"});
  EXPECT_EQ(mask.text("a s3cr3t-longer and s3cr3t s3cr3t"), "a *** and *** ***");
  store::JobRow job;
  job.url = "https://h/?x=s3cr3t";
  job.body = "{\"k\":\"s3cr3t\"}";
  job.headers = {{"X-Plain", "Bearer s3cr3t"}, {"Authorization", "whatever"}};
  job.last_error = "rejected s3cr3t";
  auto masked = mask.job(job);
  EXPECT_EQ(masked.url, "https://h/?x=***");
  EXPECT_EQ(masked.body, "{\"k\":\"***\"}");
  EXPECT_EQ(masked.headers["X-Plain"], "Bearer ***");
  EXPECT_EQ(masked.headers["Authorization"], "***");
  EXPECT_EQ(masked.last_error, "rejected ***");
}

TEST(HtmlTextTest, EscapesEveryCharacterThatCouldOpenMarkup) {
  EXPECT_EQ(escape_html("<a href=\"x\" title='y'>&</a>"),
            "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;");
  EXPECT_EQ(url_encode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
  EXPECT_EQ(shorten("héllo", 2), "h\u2026");  // never half of é
  EXPECT_EQ(shorten("abc", 3), "abc");
}

}  // namespace
}  // namespace webhook::ctl::console
