#include "dispatcher/url_summary.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace webhook::dispatcher
