// Turns a rendered WEBHOOK_URL into the form the Python connector's HTTP client (aiohttp)
// put on the wire, so that receivers decode exactly the rendered values. Pure functions;
// thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace webhook::poller {

struct SendableUrl {
  std::string url;    // the encoded URL (empty on error)
  std::string error;  // why the URL cannot be sent; empty on success
  bool ok() const { return error.empty(); }
};

// Percent-encodes (as UTF-8, upper-case hex) every character that may not appear in a URL:
// space, " < > { } [ ] | \ ^ `, control characters, DEL and non-ASCII bytes; a '%' not
// followed by two hex digits becomes %25. Reserved delimiters (? & = / : ; + @ # and
// ! $ ' ( ) * ,) and existing %XX escapes stay as written; brackets of an IPv6 host stay.
std::string percent_encode_url(std::string_view rendered);

// percent_encode_url(), then checks that the result is an absolute http or https URL with
// a host; anything else is an error naming what is wrong.
SendableUrl make_sendable_url(std::string_view rendered);

}  // namespace webhook::poller
