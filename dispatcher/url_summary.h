// The parts of a webhook URL that are safe to log at info: host (with a non-default port)
// and path, never the query string or user:password, which may carry tokens. Pure.
#pragma once

#include <string>
#include <string_view>

namespace webhook::dispatcher {

struct UrlSummary {
  std::string host;  // "example.com" or "example.com:8443"; "?" when unparsable
  std::string path;  // "/hooks/x", "/" when empty
};

UrlSummary summarize_url(std::string_view url);

}  // namespace webhook::dispatcher
