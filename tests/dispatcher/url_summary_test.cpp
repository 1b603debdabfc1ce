#include "dispatcher/url_summary.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace webhook::dispatcher {
namespace {

TEST(UrlSummary, KeepsHostAndPathAndDropsQueryAndCredentials) {
  struct Case {
    const char* url;
    const char* host;
    const char* path;
  };
  for (const Case& c : {
           Case{"https://hooks.example.com/in/abc?token=SECRET", "hooks.example.com", "/in/abc"},
           Case{"http://user:pw@10.0.0.1:8080/x#frag", "10.0.0.1:8080", "/x"},
           Case{"http://example.com", "example.com", "/"},
           Case{"not a url", "?", "/"},
       }) {
    UrlSummary summary = summarize_url(c.url);
    EXPECT_EQ(summary.host, c.host) << c.url;
    EXPECT_EQ(summary.path, c.path) << c.url;
  }
}

// The cache gives what libcurl's parse gives, whether it takes the path as it is or hands
// the URL to summarize_url, and however often an origin comes back.
TEST(UrlSummaryCache, SummarizesAsLibcurlDoes) {
  UrlSummaryCache cache;
  const std::vector<std::string> urls = {
      "https://hooks.example.com/in/abc?token=SECRET",
      "https://hooks.example.com/in/abd#x",
      "https://hooks.example.com",
      "https://hooks.example.com?q=1",
      "http://user:pw@10.0.0.1:8080/x#frag",
      "http://10.0.0.1:8080/a/./b/../c",
      "http://10.0.0.1:8080/a/..",
      "http://10.0.0.1:8080/.hidden/x..y/",
      "http://10.0.0.1:8080/%2e%2E/x%20y",
      "http://Example.COM:80/Path//Twice/",
      "https://[::1]:8443/v6",
      "http://exa mple.com/x",
      "http:///no-host",
      "HTTP://upper.example.com/x",
      "ftp://example.com/file",
      "not a url",
      "http://example.com/with space",
      "http://example.com/tab\t/x",
      "http://example.com/caf\xc3\xa9",
  };
  for (int round = 0; round < 2; ++round) {
    for (const std::string& url : urls) {
      const UrlSummary expected = summarize_url(url);
      const UrlSummary got = cache.summarize(url);
      EXPECT_EQ(got.host, expected.host) << url;
      EXPECT_EQ(got.path, expected.path) << url;
    }
  }
  // More origins than it keeps: still right after forgetting them.
  for (int i = 0; i < 200; ++i) {
    const std::string url =
        "http://host" + std::to_string(i % 70) + ".example:81/p/" + std::to_string(i);
    EXPECT_EQ(cache.summarize(url).host, summarize_url(url).host) << url;
    EXPECT_EQ(cache.summarize(url).path, "/p/" + std::to_string(i)) << url;
  }
}

}  // namespace
}  // namespace webhook::dispatcher
