#include "poller/stream_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <exception>
#include <stdexcept>

#include "common/config.h"

namespace webhook::poller {
namespace {

using SteadyClock = std::chrono::steady_clock;

struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

std::string trimmed_base(std::string_view url) {
  std::string base(url);
  while (!base.empty() && (base.back() == '/' || base.back() == ' ')) base.pop_back();
  return base;
}

// `text` on one line, at most `max` bytes, without `secret`.
std::string clean(std::string text, std::string_view secret, std::size_t max = 200) {
  if (secret.size() >= 4) {
    for (auto p = text.find(secret); p != std::string::npos; p = text.find(secret, p)) {
      text.replace(p, secret.size(), "***");
    }
  }
  bool cut = text.size() > max;
  text.resize(std::min(text.size(), max));
  for (auto& c : text) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return cut ? text + "..." : text;
}

std::string bool_text(bool b) { return b ? "true" : "false"; }

}  // namespace

std::string stream_url(std::string_view opencti_url, std::string_view stream_id,
                       std::string_view recover) {
  std::string url = trimmed_base(opencti_url) + "/stream/" + std::string(stream_id);
  if (!recover.empty()) {
    char* escaped = curl_easy_escape(nullptr, recover.data(), static_cast<int>(recover.size()));
    if (escaped == nullptr) throw std::runtime_error("out of memory escaping a date");
    url += "?recover=" + std::string(escaped);
    curl_free(escaped);
  }
  return url;
}

std::string describe(const StreamConnection& c) {
  switch (c.end) {
    case StreamEnd::kClosed:
      return "closed by the server";
    case StreamEnd::kCutMidEvent:
      return "cut part-way through an event";
    case StreamEnd::kHttpStatus:
    case StreamEnd::kTransport:
    case StreamEnd::kTooLarge:
      return c.error;
    case StreamEnd::kSilent:
      return c.error;
    case StreamEnd::kStopped:
      return c.error.empty() ? "stopped" : c.error;
    case StreamEnd::kCancelled:
      return "shutting down";
  }
  return "ended";
}

std::string_view end_label(StreamEnd end) {
  switch (end) {
    case StreamEnd::kClosed:
      return "closed";
    case StreamEnd::kCutMidEvent:
      return "cut";
    case StreamEnd::kHttpStatus:
      return "http_status";
    case StreamEnd::kTransport:
      return "transport";
    case StreamEnd::kSilent:
      return "silent";
    case StreamEnd::kTooLarge:
      return "too_large";
    case StreamEnd::kStopped:
      return "stopped";
    case StreamEnd::kCancelled:
      return "cancelled";
  }
  return "ended";
}

StreamOptions StreamOptions::from_config(const Config& config) {
  StreamOptions options;
  options.url = config.string("OPENCTI_URL");
  options.token = config.string("OPENCTI_TOKEN");
  options.custom_headers = parse_custom_headers(config.string("OPENCTI_CUSTOM_HEADERS"));
  options.ssl_verify = config.boolean("OPENCTI_SSL_VERIFY");
  options.ca_file = config.string("OPENCTI_CA_FILE");
  options.listen_delete = config.boolean("CONNECTOR_LIVE_STREAM_LISTEN_DELETE");
  options.no_dependencies = config.boolean("CONNECTOR_LIVE_STREAM_NO_DEPENDENCIES");
  options.with_inferences = config.boolean("CONNECTOR_LIVE_STREAM_WITH_INFERENCES");
  options.watchdog = config.duration("WEBHOOK_STREAM_WATCHDOG");
  return options;
}

struct StreamClient::Handle {
  struct EasyDeleter {
    void operator()(CURL* c) const { curl_easy_cleanup(c); }
  };
  struct MultiDeleter {
    void operator()(CURLM* m) const { curl_multi_cleanup(m); }
  };
  std::unique_ptr<CURL, EasyDeleter> curl;
  std::unique_ptr<CURLM, MultiDeleter> multi;
  char error_buffer[CURL_ERROR_SIZE] = {};

  // Per connection.
  StreamHandler* handler = nullptr;
  std::optional<SseParser> parser;
  bool checked_status = false;
  bool bad_status = false;
  std::string error_body;
  bool stopped = false;
  bool too_large = false;
  std::exception_ptr failure;
  int64_t events = 0;
  SteadyClock::time_point last_message;

  static size_t on_write(char* data, size_t size, size_t count, void* self) {
    auto* h = static_cast<Handle*>(self);
    const size_t n = size * count;
    if (!h->checked_status) {
      h->checked_status = true;
      long status = 0;
      curl_easy_getinfo(h->curl.get(), CURLINFO_RESPONSE_CODE, &status);
      char* type = nullptr;
      curl_easy_getinfo(h->curl.get(), CURLINFO_CONTENT_TYPE, &type);
      std::string content_type = type == nullptr ? "" : type;
      h->bad_status = status != 200 || content_type.rfind("text/event-stream", 0) != 0;
    }
    if (h->bad_status) {
      // Keep the start of the answer for the error, then give up on it.
      h->error_body.append(data, std::min(n, 512 - std::min<size_t>(512, h->error_body.size())));
      return h->error_body.size() >= 512 ? 0 : n;
    }
    try {
      bool keep = h->parser->feed(std::string_view(data, n), [h](SseEvent&& event) {
        if (h->stopped) return;
        ++h->events;
        h->last_message = SteadyClock::now();
        if (!h->handler->on_event(std::move(event))) h->stopped = true;
      });
      if (!keep) {
        h->too_large = true;
        return 0;
      }
    } catch (...) {
      h->failure = std::current_exception();
      return 0;
    }
    return h->stopped ? 0 : n;
  }
};

StreamClient::StreamClient(StreamOptions options)
    : options_(std::move(options)), handle_(std::make_unique<Handle>()) {
  // curl_global_init is reference-counted; the GraphQL client made the first call on the
  // main thread, and so is this one (clients are built before the feed threads start).
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    throw std::runtime_error("cannot initialise libcurl");
  }
  handle_->curl.reset(curl_easy_init());
  handle_->multi.reset(curl_multi_init());
  if (!handle_->curl || !handle_->multi) throw std::runtime_error("cannot create a libcurl handle");
  CURL* c = handle_->curl.get();
  curl_easy_setopt(c, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, options_.ssl_verify ? 1L : 0L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, options_.ssl_verify ? 2L : 0L);
  if (!options_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, options_.ca_file.c_str());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &Handle::on_write);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, handle_.get());
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, handle_->error_buffer);
  curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
}

StreamClient::~StreamClient() { curl_global_cleanup(); }

StreamConnection StreamClient::run(const std::string& stream_id, const std::string& last_event_id,
                                   const std::string& recover, StreamHandler& handler,
                                   const CancelFn& cancel, std::chrono::milliseconds idle_every) {
  Handle& h = *handle_;
  h.handler = &handler;
  h.parser.emplace(last_event_id, options_.max_event_bytes);
  h.checked_status = false;
  h.bad_status = false;
  h.error_body.clear();
  h.stopped = false;
  h.too_large = false;
  h.failure = nullptr;
  h.events = 0;
  h.error_buffer[0] = '\0';

  const std::string url = stream_url(options_.url, stream_id, recover);
  Slist headers;
  auto add = [&](const std::string& line) {
    curl_slist* next = curl_slist_append(headers.get(), line.c_str());
    if (next == nullptr) throw std::runtime_error("out of memory building stream headers");
    headers.release();
    headers.reset(next);
  };
  add("Accept: text/event-stream");
  add("Cache-Control: no-cache");
  add("Authorization: Bearer " + options_.token);
  add("listen-delete: " + bool_text(options_.listen_delete));
  add("no-dependencies: " + bool_text(options_.no_dependencies));
  add("with-inferences: " + bool_text(options_.with_inferences));
  if (!last_event_id.empty()) add("Last-Event-ID: " + last_event_id);
  for (const auto& [name, value] : options_.custom_headers) add(name + ": " + value);

  CURL* c = h.curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);

  StreamConnection result;
  CURLM* m = h.multi.get();
  if (curl_multi_add_handle(m, c) != CURLM_OK) throw std::runtime_error("curl_multi_add_handle");
  h.last_message = SteadyClock::now();
  bool silent = false;
  bool cancelled = false;
  bool idle_stop = false;
  int running = 1;
  while (true) {
    curl_multi_perform(m, &running);
    if (running == 0 || h.failure || h.stopped) break;
    const auto now = SteadyClock::now();
    if (now - h.last_message >= options_.watchdog) {
      silent = true;
      break;
    }
    if (cancel && cancel()) {
      cancelled = true;
      break;
    }
    try {
      if (!handler.on_idle(now)) {
        idle_stop = true;
        break;
      }
    } catch (...) {
      h.failure = std::current_exception();
      break;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(options_.watchdog -
                                                                      (now - h.last_message));
    int wait = static_cast<int>(std::max<int64_t>(1, std::min(left, idle_every).count()));
    curl_multi_poll(m, nullptr, 0, wait, nullptr);
  }
  CURLcode rc = CURLE_OK;
  int queued = 0;
  while (CURLMsg* msg = curl_multi_info_read(m, &queued)) {
    if (msg->msg == CURLMSG_DONE) rc = msg->data.result;
  }
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_multi_remove_handle(m, c);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, nullptr);
  if (h.failure) std::rethrow_exception(h.failure);

  result.http_status = static_cast<int>(status);
  result.events = h.events;
  result.retry_ms = h.parser->retry_ms();
  const std::string where = "the stream " + stream_id;
  if (cancelled) {
    result.end = StreamEnd::kCancelled;
  } else if (h.stopped || idle_stop) {
    result.end = StreamEnd::kStopped;
  } else if (silent) {
    result.end = StreamEnd::kSilent;
    result.error = "no message for " + std::to_string(options_.watchdog.count()) +
                   " ms (the 45 s watchdog of pycti, WEBHOOK_STREAM_WATCHDOG)";
  } else if (h.too_large) {
    result.end = StreamEnd::kTooLarge;
    result.error = where + " sent " + h.parser->error();
  } else if (h.bad_status || (rc == CURLE_OK && !h.checked_status && status != 200)) {
    result.end = StreamEnd::kHttpStatus;
    std::string meaning = status == 401   ? " (the token is refused, or its user may not see "
                                            "the stream's markings)"
                          : status == 410 ? " (the stream was stopped in OpenCTI)"
                          : status == 404 ? " (no such stream: CONNECTOR_LIVE_STREAM_ID)"
                                          : "";
    if (status == 200) {
      result.error = where + " answered 200 but not as text/event-stream";
    } else {
      result.error = "HTTP " + std::to_string(status) + meaning +
                     (h.error_body.empty() ? "" : ": " + clean(h.error_body, options_.token));
    }
  } else if (rc != CURLE_OK) {
    result.end = StreamEnd::kTransport;
    std::string detail = h.error_buffer[0] != '\0' ? h.error_buffer : curl_easy_strerror(rc);
    result.error = (h.checked_status ? "the connection broke: " : "cannot connect: ") +
                   clean(detail, options_.token);
    if (h.checked_status && h.parser->in_event()) result.end = StreamEnd::kCutMidEvent;
  } else if (h.parser->in_event()) {
    result.end = StreamEnd::kCutMidEvent;
  } else {
    result.end = StreamEnd::kClosed;
  }
  return result;
}

}  // namespace webhook::poller
