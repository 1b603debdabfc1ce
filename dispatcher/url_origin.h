// The origin (scheme, host, port) of a webhook URL or of a redirect's target, for the
// dispatcher's redirect and allowed-host rules. Parsed with curl's URL parser, so it agrees
// with what curl connects to. A plain value; the functions are thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace webhook::dispatcher {

struct UrlOrigin {
  std::string scheme;  // lower case
  std::string host;    // lower case; an IPv6 address in brackets
  std::string port;    // always set: the scheme's default when the URL has none

  // "https://host:443"
  std::string text() const { return scheme + "://" + host + ":" + port; }
  bool operator==(const UrlOrigin&) const = default;

  // Whether `allowed` (WEBHOOK_ALLOWED_HOSTS entries: lower-case "host" or "host:port")
  // lists this origin's host. An empty list allows every host.
  bool allowed_by(const std::vector<std::string>& allowed) const;
};

// The origin of `url`, resolved against `base` when it is relative (a Location header);
// nullopt when it does not parse.
std::optional<UrlOrigin> url_origin(std::string_view url, std::string_view base = {});

}  // namespace webhook::dispatcher
