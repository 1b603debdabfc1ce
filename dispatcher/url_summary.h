// The parts of a webhook URL that are safe to log at info: host (with a non-default port)
// and path, never the query string or user:password, which may carry tokens. summarize_url
// is pure; a UrlSummaryCache belongs to one thread.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>

namespace webhook::dispatcher {

struct UrlSummary {
  std::string host;  // "example.com" or "example.com:8443"; "?" when unparsable
  std::string path;  // "/hooks/x", "/" when empty
};

UrlSummary summarize_url(std::string_view url);

// The same summary, cheaper for the attempt log line (one per delivery): parsing a URL with
// libcurl costs about 7,800 instructions, most of it the scheme and authority, which a
// dispatcher's jobs share with a few others. The host comes from libcurl once per
// scheme://authority; a path of plain characters without dot segments is the URL's own
// text, which is what libcurl gives back for it; any other URL goes to summarize_url whole.
class UrlSummaryCache {
 public:
  UrlSummary summarize(std::string_view url);

 private:
  static constexpr size_t kMaxOrigins = 64;              // then forgotten all at once
  std::unordered_map<std::string, UrlSummary> origins_;  // "https://host:port" -> host, "/"
};

}  // namespace webhook::dispatcher
