#include "poller/sendable_url.h"

#include <curl/curl.h>

#include <array>
#include <cctype>
#include <memory>

namespace webhook::poller {
namespace {

bool is_hex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

// What the issue (and RFC 3986) does not allow raw in a URL.
bool must_encode(unsigned char c) {
  if (c <= 0x20 || c >= 0x7f) return true;
  switch (c) {
    case '"':
    case '<':
    case '>':
    case '{':
    case '}':
    case '[':
    case ']':
    case '|':
    case '\\':
    case '^':
    case '`':
      return true;
    default:
      return false;
  }
}

void append_escape(std::string& out, unsigned char c) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  out += '%';
  out += kHex[c >> 4];
  out += kHex[c & 0xf];
}

// The [start, end) range of the host's IPv6 literal brackets, if the URL has one, so that
// `http://[::1]:8080/` keeps its brackets while brackets elsewhere are encoded.
std::pair<std::size_t, std::size_t> ipv6_host_range(std::string_view url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return {0, 0};
  std::size_t authority = scheme_end + 3;
  std::size_t authority_end = url.find_first_of("/?#", authority);
  if (authority_end == std::string_view::npos) authority_end = url.size();
  std::size_t host = url.find('@', authority);
  host = (host == std::string_view::npos || host > authority_end) ? authority : host + 1;
  if (host >= authority_end || url[host] != '[') return {0, 0};
  std::size_t close = url.find(']', host);
  if (close == std::string_view::npos || close > authority_end) return {0, 0};
  return {host, close + 1};
}

// "scheme://authority" of `url`, or empty when it has no "://".
std::string_view origin_of(std::string_view url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return {};
  std::size_t end = url.find_first_of("/?#", scheme_end + 3);
  return url.substr(0, end == std::string_view::npos ? url.size() : end);
}

struct CurlUrlDeleter {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};
struct CurlFree {
  void operator()(char* p) const { curl_free(p); }
};

}  // namespace

std::string percent_encode_url(std::string_view rendered) {
  // A byte is "plain" when it is copied as is; '%' and brackets need a look at their context.
  static const std::array<bool, 256> kPlain = [] {
    std::array<bool, 256> plain{};
    for (int c = 0; c < 256; ++c) {
      plain[c] = !must_encode(static_cast<unsigned char>(c)) && c != '%';
    }
    return plain;
  }();
  std::size_t i = 0;
  while (i < rendered.size() && kPlain[static_cast<unsigned char>(rendered[i])]) ++i;
  if (i == rendered.size()) return std::string(rendered);  // most URLs need nothing

  auto [v6_begin, v6_end] = ipv6_host_range(rendered);
  std::string out;
  out.reserve(rendered.size() + rendered.size() / 2);
  out.append(rendered.substr(0, i));
  while (i < rendered.size()) {
    std::size_t run = i;
    while (run < rendered.size() && kPlain[static_cast<unsigned char>(rendered[run])]) ++run;
    out.append(rendered.substr(i, run - i));
    if (run == rendered.size()) break;
    i = run;
    unsigned char c = static_cast<unsigned char>(rendered[i]);
    if (c == '%') {
      if (i + 2 < rendered.size() && is_hex(rendered[i + 1]) && is_hex(rendered[i + 2])) {
        out.append(rendered.substr(i, 3));
        i += 3;
        continue;
      }
      out += "%25";
    } else if ((c == '[' || c == ']') && i >= v6_begin && i < v6_end) {
      out += static_cast<char>(c);
    } else {
      append_escape(out, c);
    }
    ++i;
  }
  return out;
}

SendableUrl make_sendable_url(std::string_view rendered) {
  std::string encoded = percent_encode_url(rendered);
  // A feed's URLs nearly always share their scheme and authority, and once encoded the rest
  // holds nothing curl's parser refuses (no spaces or control bytes), so a URL whose origin
  // curl accepted last time on this thread needs no second look: a 10,000-item poll then
  // parses one URL instead of 10,000.
  thread_local std::string accepted_origin;
  std::string_view origin = origin_of(encoded);
  if (!origin.empty() && origin == accepted_origin) return {std::move(encoded), {}};
  std::unique_ptr<CURLU, CurlUrlDeleter> handle(curl_url());
  if (!handle) return {{}, "out of memory while checking the URL"};
  CURLUcode rc = curl_url_set(handle.get(), CURLUPART_URL, encoded.c_str(), 0);
  if (rc != CURLUE_OK) {
    return {{},
            "not a valid absolute URL (" + std::string(curl_url_strerror(rc)) + "): " + encoded};
  }
  char* raw = nullptr;
  if (curl_url_get(handle.get(), CURLUPART_SCHEME, &raw, 0) != CURLUE_OK || raw == nullptr) {
    return {{}, "the URL has no scheme: " + encoded};
  }
  std::unique_ptr<char, CurlFree> scheme(raw);
  std::string s(scheme.get());
  for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (s != "http" && s != "https") {
    return {{}, "the URL's scheme is '" + s + "', expected http or https: " + encoded};
  }
  raw = nullptr;
  if (curl_url_get(handle.get(), CURLUPART_HOST, &raw, 0) != CURLUE_OK || raw == nullptr ||
      *raw == '\0') {
    if (raw) curl_free(raw);
    return {{}, "the URL has no host: " + encoded};
  }
  curl_free(raw);
  accepted_origin = origin;
  return {std::move(encoded), {}};
}

}  // namespace webhook::poller
