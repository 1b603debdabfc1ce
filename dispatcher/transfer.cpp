#include "dispatcher/transfer.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <stdexcept>
#include <string_view>

#include "dispatcher/url_origin.h"

namespace webhook::dispatcher {
namespace {

constexpr long kMaxRedirects = 5;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Header names we set ourselves; a job header of the same name is dropped, not doubled.
// The framing headers are curl's: a job's Content-Length or Transfer-Encoding would let
// its body be read as a second request (the poller refuses them at start; this covers jobs
// enqueued before it did).
bool is_reserved(std::string_view name) {
  for (std::string_view reserved :
       {"Idempotency-Key", "webhook-id", "webhook-timestamp", "webhook-signature", "Content-Length",
        "Transfer-Encoding", "Host", "Connection"}) {
    if (iequals(name, reserved)) return true;
  }
  return false;
}

// A rendered value must not smuggle extra header lines.
std::string single_line(std::string_view text) {
  std::string out(text);
  std::replace_if(
      out.begin(), out.end(), [](char c) { return c == '\r' || c == '\n'; }, ' ');
  return out;
}

// Whether none of the variables libcurl takes a proxy from is set. libcurl reads them again
// for every request (five lookups and copies, about 3,000 instructions); when there are
// none, telling a handle once that there is no proxy gives the same answer without them.
bool proxy_environment_empty() {
  for (const char* name : {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy",
                           "ALL_PROXY", "no_proxy", "NO_PROXY"}) {
    if (std::getenv(name) != nullptr) return false;
  }
  return true;
}

template <typename T>
void set(CURL* easy, CURLoption option, T value) {
  if (CURLcode rc = curl_easy_setopt(easy, option, value); rc != CURLE_OK) {
    throw std::runtime_error(std::string("cannot configure a webhook request: ") +
                             curl_easy_strerror(rc));
  }
}

}  // namespace

Transfer::Transfer(store::ClaimedJob job, const DispatcherSettings& settings,
                   const WebhookSigner* signer, int64_t started_at, CurlEasy handle)
    : job_(std::move(job)),
      started_at_(started_at),
      easy_(std::move(handle)),
      cross_origin_redirects_(settings.cross_origin_redirects),
      allowed_hosts_(&settings.feed(job_.feed).allowed_hosts) {
  try {
    const bool fresh = !easy_;
    if (fresh) easy_.reset(curl_easy_init());
    if (!easy_) throw std::runtime_error("curl_easy_init failed");
    if (fresh) configure_handle(settings);
    configure(settings, signer);
  } catch (const std::exception& error) {
    setup_error_ = error.what();
  }
}

void Transfer::configure_handle(const DispatcherSettings& settings) {
  CURL* easy = easy_.get();
  set(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  set(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  set(easy, CURLOPT_FOLLOWLOCATION, 1L);
  set(easy, CURLOPT_MAXREDIRS, kMaxRedirects);
  set(easy, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
  set(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(settings.timeout.count()));
  set(easy, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(settings.connect_timeout.count()));
  set(easy, CURLOPT_SSL_VERIFYPEER, settings.ssl_verify ? 1L : 0L);
  set(easy, CURLOPT_SSL_VERIFYHOST, settings.ssl_verify ? 2L : 0L);
  if (!settings.ca_file.empty()) set(easy, CURLOPT_CAINFO, settings.ca_file.c_str());
  set(easy, CURLOPT_NOSIGNAL, 1L);
  set(easy, CURLOPT_TCP_KEEPALIVE, 1L);
  if (proxy_environment_empty()) {
    set(easy, CURLOPT_PROXY, "");    // "": no proxy, and no lookup of the variables
    set(easy, CURLOPT_NOPROXY, "");  // nor of no_proxy
  }
  set(easy, CURLOPT_USERAGENT, "opencti-webhook/" WEBHOOK_VERSION);
  set(easy, CURLOPT_WRITEFUNCTION, &Transfer::on_body);
  set(easy, CURLOPT_HEADERFUNCTION, &Transfer::on_header);
}

void Transfer::configure(const DispatcherSettings& settings, const WebhookSigner* signer) {
  CURL* easy = easy_.get();
  // Parsing the URL costs as much as a tenth of a request: only when a rule needs it now
  // (a redirect needs it later, see redirect_allowed).
  if (!allowed_hosts_->empty()) {
    origin_ = url_origin(job_.url);
    origin_parsed_ = true;
    if (origin_ && !origin_->allowed_by(*allowed_hosts_)) {
      throw std::runtime_error("the URL names " + origin_->host + ":" + origin_->port +
                               ", which is not in WEBHOOK_ALLOWED_HOSTS; not sent");
    }
  }
  // What points into this Transfer, or differs per job, is set on every use of the handle.
  set(easy, CURLOPT_PRIVATE, static_cast<void*>(this));
  set(easy, CURLOPT_URL, job_.url.c_str());
  set(easy, CURLOPT_ERRORBUFFER, error_);
  set(easy, CURLOPT_WRITEDATA, static_cast<void*>(this));
  set(easy, CURLOPT_HEADERDATA, static_cast<void*>(this));

  // Method and body. curl's own defaults for a body (form content type, Expect:
  // 100-continue) are removed below: the job's headers say what the body is.
  // A reused handle still holds the previous job's method: each branch sets all of it.
  const bool has_body = !job_.body.empty();
  set(easy, CURLOPT_CUSTOMREQUEST, static_cast<const char*>(nullptr));
  set(easy, CURLOPT_POSTFIELDS, static_cast<const char*>(nullptr));  // no dangling body
  if (job_.method == "GET" && !has_body) {
    set(easy, CURLOPT_HTTPGET, 1L);  // also clears NOBODY
  } else if (job_.method == "HEAD") {
    set(easy, CURLOPT_NOBODY, 1L);
  } else {
    set(easy, CURLOPT_NOBODY, 0L);  // after a HEAD, a body would otherwise not be sent
    set(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(job_.body.size()));
    set(easy, CURLOPT_POSTFIELDS, job_.body.c_str());
    if (job_.method != "POST") set(easy, CURLOPT_CUSTOMREQUEST, job_.method.c_str());
  }

  bool has_content_type = false;
  if (job_.headers.is_object()) {
    for (const auto& [name, value] : job_.headers.items()) {
      if (is_reserved(name)) continue;
      if (iequals(name, "Content-Type")) has_content_type = true;
      std::string text = value.is_string() ? value.get<std::string>() : value.dump();
      text = single_line(text);
      // "Name;" is curl's way of sending a header with an empty value.
      append_header(headers_,
                    text.empty() ? single_line(name) + ";" : single_line(name) + ": " + text);
    }
  }
  if (has_body && !has_content_type) append_header(headers_, "Content-Type:");
  // curl adds Expect only to a body; each header line costs curl about 4,000 instructions
  // a request, as much as the rest of this function.
  if (has_body) append_header(headers_, "Expect:");
  append_header(headers_, "Idempotency-Key: " + job_.id);
  append_header(headers_, "webhook-id: " + job_.id);
  if (signer != nullptr) {
    const int64_t timestamp = started_at_ / 1000;
    append_header(headers_, "webhook-timestamp: " + std::to_string(timestamp));
    append_header(headers_, "webhook-signature: " + signer->sign(job_.id, timestamp, job_.body));
  }
  // The stream webhook connector's WEBHOOK_AUTH_TYPE=TOKEN, added here so that the token is
  // never stored with the job.
  if (const FeedDelivery& delivery = settings.feed(job_.feed); delivery.auth_token) {
    append_header(headers_, delivery.auth_header + ": " + single_line(*delivery.auth_token));
  }
  set(easy, CURLOPT_HTTPHEADER, headers_.get());
}

size_t Transfer::on_body(char* data, size_t size, size_t count, void* self) {
  auto* transfer = static_cast<Transfer*>(self);
  const size_t bytes = size * count;
  const size_t room =
      kResponseHeadBytes - std::min(kResponseHeadBytes, transfer->response_head_.size());
  transfer->response_head_.append(data, std::min(room, bytes));
  return bytes;  // read the rest too, so the connection stays reusable
}

size_t Transfer::on_header(char* data, size_t size, size_t count, void* self) {
  auto* transfer = static_cast<Transfer*>(self);
  const size_t bytes = size * count;
  std::string_view line(data, bytes);
  if (line.substr(0, 5) == "HTTP/") {
    // A new response (after a redirect or an interim 1xx): forget the previous one's.
    transfer->retry_after_.reset();
    transfer->response_head_.clear();
    transfer->location_.clear();
    auto space = line.find(' ');
    transfer->status_ = space == std::string_view::npos ? 0 : std::atoi(line.data() + space + 1);
    return bytes;
  }
  if (line == "\r\n" || line == "\n") {
    // The end of a response's headers: curl follows a redirect right after this call, so
    // a target of another origin is refused here, before any byte goes to it.
    return transfer->redirect_allowed() ? bytes : 0;
  }
  constexpr std::string_view kLocation = "location:";
  if (line.size() > kLocation.size() && iequals(line.substr(0, kLocation.size()), kLocation)) {
    std::string value(line.substr(kLocation.size()));
    auto begin = value.find_first_not_of(" \t");
    auto end = value.find_last_not_of(" \t\r\n");
    transfer->location_ = begin == std::string::npos ? "" : value.substr(begin, end - begin + 1);
    return bytes;
  }
  constexpr std::string_view kRetryAfter = "retry-after:";
  if (line.size() > kRetryAfter.size() &&
      iequals(line.substr(0, kRetryAfter.size()), kRetryAfter)) {
    std::string value(line.substr(kRetryAfter.size()));
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.pop_back();
    transfer->retry_after_ = std::move(value);
  }
  return bytes;
}

bool Transfer::redirect_allowed() {
  const bool redirect =
      status_ == 301 || status_ == 302 || status_ == 303 || status_ == 307 || status_ == 308;
  if (!redirect || location_.empty()) return true;
  char* current = nullptr;
  curl_easy_getinfo(easy_.get(), CURLINFO_EFFECTIVE_URL, &current);
  std::optional<UrlOrigin> target =
      url_origin(location_, current != nullptr ? std::string_view(current) : job_.url);
  if (!target) return true;  // curl refuses it itself, with its own error
  if (!target->allowed_by(*allowed_hosts_)) {
    refused_redirect_ = "HTTP " + std::to_string(status_) + ": redirect to " + target->text() +
                        " not followed: that host is not in WEBHOOK_ALLOWED_HOSTS";
    return false;
  }
  if (!cross_origin_redirects_ && !origin_parsed_) {
    origin_ = url_origin(job_.url);
    origin_parsed_ = true;
  }
  if (!cross_origin_redirects_ && origin_ && *target != *origin_) {
    refused_redirect_ = "HTTP " + std::to_string(status_) + ": redirect to another origin (" +
                        target->text() +
                        ") not followed, so it never gets this job's headers; set "
                        "WEBHOOK_CROSS_ORIGIN_REDIRECTS=true to follow it";
    return false;
  }
  return true;
}

TransferResult Transfer::result(CURLcode code) const {
  TransferResult result;
  result.response_head = response_head_;
  if (!refused_redirect_.empty()) {
    result.http_status = status_;
    result.error = refused_redirect_;
    return result;
  }
  if (code != CURLE_OK) {
    result.error = error_[0] != '\0' ? std::string(error_) : curl_easy_strerror(code);
    return result;
  }
  long status = 0;
  curl_easy_getinfo(easy_.get(), CURLINFO_RESPONSE_CODE, &status);
  result.http_status = static_cast<int>(status);
  if (status < 200 || status > 299) result.error = "HTTP " + std::to_string(status);
  result.retry_after = retry_after_;
  return result;
}

}  // namespace webhook::dispatcher
