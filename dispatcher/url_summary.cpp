#include "dispatcher/url_summary.h"

#include <curl/curl.h>

#include <algorithm>
#include <memory>

namespace webhook::dispatcher {
namespace {

struct UrlDeleter {
  void operator()(CURLU* url) const { curl_url_cleanup(url); }
};
struct StringDeleter {
  void operator()(char* text) const { curl_free(text); }
};

std::string part(CURLU* url, CURLUPart which) {
  char* raw = nullptr;
  if (curl_url_get(url, which, &raw, 0) != CURLUE_OK || raw == nullptr) return {};
  std::unique_ptr<char, StringDeleter> owned(raw);
  return std::string(raw);
}

// Characters libcurl 7.88 keeps as they are in a path (no percent sign: libcurl may
// normalise an escape).
bool plain_path_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("-._~!$&'()*+,;=:@/").find(c) != std::string_view::npos;
}

// libcurl removes "." and ".." segments: such a path is not taken as it is.
bool has_dot_segment(std::string_view path) {
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view segment = path.substr(start, end - start);
    if (segment == "." || segment == "..") return true;
    start = end + 1;
  }
  return false;
}

}  // namespace

UrlSummary UrlSummaryCache::summarize(std::string_view url) {
  const size_t scheme_end = url.find("://");
  const std::string_view scheme =
      url.substr(0, scheme_end == std::string_view::npos ? 0 : scheme_end);
  if (scheme != "http" && scheme != "https") return summarize_url(url);
  const size_t authority_end = url.find_first_of("/?#", scheme_end + 3);
  const std::string_view origin = url.substr(0, authority_end);
  if (origin.size() == scheme_end + 3) return summarize_url(url);
  std::string_view path;
  if (authority_end != std::string_view::npos && url[authority_end] == '/') {
    path = url.substr(authority_end, url.find_first_of("?#", authority_end) - authority_end);
  }
  if (!std::all_of(path.begin(), path.end(), plain_path_char) || has_dot_segment(path)) {
    return summarize_url(url);
  }
  auto known = origins_.find(std::string(origin));
  if (known == origins_.end()) {
    if (origins_.size() >= kMaxOrigins) origins_.clear();
    known = origins_.emplace(std::string(origin), summarize_url(origin)).first;
  }
  // An authority libcurl refused makes the whole URL refused: "?" and "/".
  if (known->second.host == "?") return known->second;
  return UrlSummary{known->second.host, path.empty() ? std::string("/") : std::string(path)};
}

UrlSummary summarize_url(std::string_view url) {
  UrlSummary summary{"?", "/"};
  std::unique_ptr<CURLU, UrlDeleter> parsed(curl_url());
  if (!parsed) return summary;
  std::string text(url);
  if (curl_url_set(parsed.get(), CURLUPART_URL, text.c_str(), 0) != CURLUE_OK) return summary;
  summary.host = part(parsed.get(), CURLUPART_HOST);
  if (summary.host.empty()) summary.host = "?";
  if (std::string port = part(parsed.get(), CURLUPART_PORT); !port.empty()) {
    summary.host += ":" + port;
  }
  summary.path = part(parsed.get(), CURLUPART_PATH);
  if (summary.path.empty()) summary.path = "/";
  return summary;
}

}  // namespace webhook::dispatcher
