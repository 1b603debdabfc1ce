#include "dispatcher/url_summary.h"

#include <curl/curl.h>

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

}  // namespace

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
