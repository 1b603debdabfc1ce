#include "dispatcher/url_origin.h"

#include <curl/curl.h>

#include <cctype>
#include <memory>

namespace webhook::dispatcher {
namespace {

struct CurlUrlDeleter {
  void operator()(CURLU* url) const { curl_url_cleanup(url); }
};

std::string part(CURLU* url, CURLUPart which, unsigned flags) {
  char* raw = nullptr;
  if (curl_url_get(url, which, &raw, flags) != CURLUE_OK || raw == nullptr) return {};
  std::string out(raw);
  curl_free(raw);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

bool UrlOrigin::allowed_by(const std::vector<std::string>& allowed) const {
  if (allowed.empty()) return true;
  const std::string host_port = host + ":" + port;
  for (const auto& entry : allowed) {
    if (entry == host || entry == host_port) return true;
  }
  return false;
}

std::optional<UrlOrigin> url_origin(std::string_view url, std::string_view base) {
  std::unique_ptr<CURLU, CurlUrlDeleter> handle(curl_url());
  if (!handle) return std::nullopt;
  // curl resolves a relative URL against the one the handle already holds.
  if (!base.empty() &&
      curl_url_set(handle.get(), CURLUPART_URL, std::string(base).c_str(), 0) != CURLUE_OK) {
    return std::nullopt;
  }
  if (curl_url_set(handle.get(), CURLUPART_URL, std::string(url).c_str(), 0) != CURLUE_OK) {
    return std::nullopt;
  }
  UrlOrigin origin{part(handle.get(), CURLUPART_SCHEME, 0), part(handle.get(), CURLUPART_HOST, 0),
                   part(handle.get(), CURLUPART_PORT, CURLU_DEFAULT_PORT)};
  if (origin.scheme.empty() || origin.host.empty()) return std::nullopt;
  return origin;
}

}  // namespace webhook::dispatcher
