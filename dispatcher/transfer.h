// One HTTP attempt of one claimed job: the configured curl easy handle, its header list, and
// what the answer brought back (status, Retry-After, the first 4 KiB of the body). A
// Transfer is owned by the HttpClient while in flight and carried in CURLOPT_PRIVATE; it
// must not move once built (curl holds pointers into it). It borrows the settings, which
// must outlive it. One thread.
#pragma once

#include <curl/curl.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/store/job_store.h"
#include "dispatcher/curl_handles.h"
#include "dispatcher/dispatcher_settings.h"
#include "dispatcher/url_origin.h"
#include "dispatcher/webhook_signer.h"

namespace webhook::dispatcher {

inline constexpr std::size_t kResponseHeadBytes = 4096;

// What one attempt produced, as curl reported it.
struct TransferResult {
  std::optional<int> http_status;  // set when a complete HTTP answer arrived
  std::string error;               // curl's error text, or "HTTP 503"; empty on 2xx
  std::string response_head;       // the first kResponseHeadBytes of the body
  std::optional<std::string> retry_after;
};

class Transfer {
 public:
  // Builds the request for `job`: method, URL, the job's headers and body, User-Agent,
  // Idempotency-Key and webhook-id, and the Standard Webhooks signature when `signer` is
  // given (timestamp from `started_at`). `handle` is null (a new one is made and configured)
  // or one a previous Transfer with the same `settings` released: the options that are the
  // same for every request stay as that one set them, so a request sets only its own.
  // When curl refuses an option the request cannot be sent: setup_error() says why.
  Transfer(store::ClaimedJob job, const DispatcherSettings& settings, const WebhookSigner* signer,
           int64_t started_at, CurlEasy handle = nullptr);
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;

  CURL* handle() const { return easy_.get(); }
  const std::string& setup_error() const { return setup_error_; }
  const store::ClaimedJob& job() const { return job_; }
  int64_t started_at() const { return started_at_; }

  // The attempt's result once curl finished it with `code`.
  TransferResult result(CURLcode code) const;

  // Hands the job over (the Transfer is spent afterwards).
  store::ClaimedJob take_job() { return std::move(job_); }
  // Gives the easy handle back for reuse (the Transfer is spent afterwards).
  CurlEasy release_handle() { return std::move(easy_); }

 private:
  static size_t on_body(char* data, size_t size, size_t count, void* self);
  static size_t on_header(char* data, size_t size, size_t count, void* self);

  // The options every request of these settings shares, on a new handle.
  void configure_handle(const DispatcherSettings& settings);
  // This job's options.
  void configure(const DispatcherSettings& settings, const WebhookSigner* signer);
  // At the end of a response's headers: false (and refused_redirect_ set) when it
  // redirects to an origin the settings do not let this job's request follow to.
  bool redirect_allowed();

  store::ClaimedJob job_;
  int64_t started_at_;
  std::string setup_error_;
  CurlEasy easy_;
  CurlSlist headers_;
  std::string response_head_;
  std::optional<std::string> retry_after_;
  int status_ = 0;                   // of the response whose headers are arriving
  std::string location_;             // its Location header
  std::optional<UrlOrigin> origin_;  // the job URL's, once origin_parsed_
  bool origin_parsed_ = false;
  bool cross_origin_redirects_ = false;                      // WEBHOOK_CROSS_ORIGIN_REDIRECTS
  const std::vector<std::string>* allowed_hosts_ = nullptr;  // the job's feed's, in settings
  std::string refused_redirect_;  // set: the attempt stopped at a redirect; why
  char error_[CURL_ERROR_SIZE] = {};
};

}  // namespace webhook::dispatcher
