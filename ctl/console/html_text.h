// Text made safe for the console's HTML: every value shown comes from OpenCTI, a receiver or
// an operator and may hold markup, so pages put it through escape_html(), and links put
// their parameters through url_encode(). Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace webhook::ctl::console {

// & < > " ' as entities: safe in element text and in quoted attribute values.
std::string escape_html(std::string_view text);

// Percent-encodes everything but unreserved characters (RFC 3986), for a query value or
// a path segment.
std::string url_encode(std::string_view text);

// At most `max` bytes of `text`, cut at a UTF-8 character boundary, with "…" when cut.
std::string shorten(std::string_view text, std::size_t max);

}  // namespace webhook::ctl::console
