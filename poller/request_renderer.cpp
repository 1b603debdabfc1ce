#include "poller/request_renderer.h"

#include <curl/curl.h>

#include <memory>

#include "common/clock.h"
#include "common/json_writer.h"
#include "poller/job_id.h"
#include "poller/sendable_url.h"

namespace webhook::poller {
namespace {

struct CurlUrlDeleter {
  void operator()(CURLU* url) const { curl_url_cleanup(url); }
};

// One part of a parsed URL, or "" when it has none.
std::string url_part(CURLU* url, CURLUPart part, unsigned flags) {
  char* raw = nullptr;
  if (curl_url_get(url, part, &raw, flags) != CURLUE_OK || raw == nullptr) return {};
  std::string out(raw);
  curl_free(raw);
  return out;
}

// Whether the sendable URL `url` names one of `allowed` ("host" or "host:port", lower
// case); on a refusal `named` says which host:port it named.
bool names_allowed_host(const std::string& url, const std::vector<std::string>& allowed,
                        std::string& named) {
  std::unique_ptr<CURLU, CurlUrlDeleter> handle(curl_url());
  if (!handle || curl_url_set(handle.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
    named = url;
    return false;
  }
  std::string host = url_part(handle.get(), CURLUPART_HOST, 0);
  for (auto& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string port = url_part(handle.get(), CURLUPART_PORT, CURLU_DEFAULT_PORT);
  named = host + ":" + port;
  for (const auto& entry : allowed) {
    if (entry == host || entry == named) return true;
  }
  return false;
}

// A text holding a lone surrogate (which the JSON reader keeps as ED A0..BF xx) cannot be
// sent: the Python connector's client encoded headers and bodies as UTF-8, which raises
// this error. Empty when the text has none. (In a URL, requests percent-encodes the bytes,
// as make_sendable_url does.)
std::string surrogate_error(std::string_view text) {
  std::size_t position = 0;  // in characters, as Python counts
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if ((c & 0xC0) == 0x80) continue;  // a continuation byte
    if (c == 0xED && i + 2 < text.size() && static_cast<unsigned char>(text[i + 1]) >= 0xA0 &&
        (static_cast<unsigned char>(text[i + 2]) & 0xC0) == 0x80) {
      unsigned unit = 0xD000 | ((static_cast<unsigned char>(text[i + 1]) & 0x3F) << 6) |
                      (static_cast<unsigned char>(text[i + 2]) & 0x3F);
      static constexpr char kHex[] = "0123456789abcdef";
      std::string escape = "\\u";
      for (int shift = 12; shift >= 0; shift -= 4) escape += kHex[(unit >> shift) & 0xF];
      return "UnicodeEncodeError: 'utf-8' codec can't encode character '" + escape +
             "' in position " + std::to_string(position) + ": surrogates not allowed";
    }
    ++position;
  }
  return {};
}

}  // namespace

std::optional<RequestRenderer> RequestRenderer::compile(const FeedConfig& feed,
                                                        std::vector<std::string>& problems) {
  auto templates = compile_request_templates(feed, problems);
  if (!templates) return std::nullopt;
  return from_templates(feed, std::move(*templates));
}

RequestRenderer RequestRenderer::from_templates(const FeedConfig& feed,
                                                RequestTemplates templates) {
  RequestRenderer r;
  r.method_ = feed.method.empty() ? "GET" : feed.method;
  r.max_attempts_ = feed.retry_attempts + 1;
  r.url_ = std::move(templates.url);
  r.headers_ = std::move(templates.headers);
  r.body_ = std::move(templates.body);
  r.filter_ = std::move(templates.filter);
  r.order_key_ = std::move(templates.order_key);
  r.allowed_hosts_ = feed.allowed_hosts;
  bool literal = !r.filter_ && r.url_.is_literal() && (!r.body_ || r.body_->is_literal()) &&
                 (!r.order_key_ || r.order_key_->is_literal());
  for (const auto& [name, header] : r.headers_) literal = literal && header.is_literal();
  if (literal) {
    // Plain text renders without looking at the item: once here instead of once per item.
    store::NewJob job = r.render(nlohmann::ordered_json(), {}, nullptr);
    if (!job.dead) r.constant_ = std::move(job);
  }
  return r;
}

store::NewJob RequestRenderer::render_constant(const std::string* event_data) const {
  store::NewJob job = *constant_;
  job.id = store::make_job_id();
  if (event_data != nullptr && !body_) job.body = *event_data;
  return job;
}

store::NewJob RequestRenderer::render(const nlohmann::ordered_json& item) const {
  return render(item, {}, nullptr);
}

RequestRenderer::FilterResult RequestRenderer::filter(
    const nlohmann::ordered_json& item,
    std::span<const nlohmann::ordered_json* const> extras) const {
  FilterResult r;
  if (!filter_) return r;
  static const SystemClock kClock;
  tmpl::RenderResult out;
  filter_->render_into(item, extras, kClock, out);
  if (!out.ok()) {
    store::NewJob job;
    job.id = store::make_job_id();
    job.method = method_;
    job.max_attempts = max_attempts_;
    job.url = url_.source();
    job.dead = true;
    job.last_error = "WEBHOOK_FILTER: " + out.error;
    job.body = write_json(item);
    r.dead = std::move(job);
    r.pass = false;
    return r;
  }
  r.pass = out.text == "True";
  return r;
}

store::NewJob RequestRenderer::render(const nlohmann::ordered_json& item,
                                      std::span<const nlohmann::ordered_json* const> extras,
                                      const std::string* event_data) const {
  static const SystemClock kClock;
  auto render_one = [&](const tmpl::Template& t) {
    tmpl::RenderResult out;
    t.render_into(item, extras, kClock, out);
    return out;
  };
  store::NewJob job;
  job.id = store::make_job_id();
  job.method = method_;
  job.max_attempts = max_attempts_;
  auto fail = [&](std::string error) {
    job.dead = true;
    job.last_error = std::move(error);
    job.headers = nlohmann::ordered_json::object();
    job.body = write_json(item);  // never throws on a lone surrogate
    return std::move(job);
  };

  // The key first: a job whose request fails to render still belongs to its key, so that
  // WEBHOOK_ORDER_ON_DEAD=block holds the key's later jobs behind it.
  if (order_key_) {
    tmpl::RenderResult key = render_one(*order_key_);
    if (!key.ok()) {
      job.url = url_.source();
      return fail("WEBHOOK_ORDER_KEY: " + key.error);
    }
    job.order_key = std::move(key.text);
  }
  tmpl::RenderResult url = render_one(url_);
  if (!url.ok()) {
    job.url = url_.source();
    return fail("WEBHOOK_URL: " + url.error);
  }
  SendableUrl sendable = make_sendable_url(url.text);
  if (!sendable.ok()) {
    job.url = url.text;
    return fail("WEBHOOK_URL: " + sendable.error);
  }
  if (std::string named;
      !allowed_hosts_.empty() && !names_allowed_host(sendable.url, allowed_hosts_, named)) {
    job.url = sendable.url;
    return fail("WEBHOOK_URL: the rendered URL names " + named +
                ", which is not in WEBHOOK_ALLOWED_HOSTS; not sent");
  }
  job.url = std::move(sendable.url);

  for (const auto& [name, header] : headers_) {
    tmpl::RenderResult value = render_one(header);
    if (!value.ok()) return fail("WEBHOOK_HEADERS[\"" + name + "\"]: " + value.error);
    if (value.text.find_first_of("\r\n") != std::string::npos) {
      return fail("WEBHOOK_HEADERS[\"" + name + "\"]: the value holds a line break");
    }
    if (std::string error = surrogate_error(value.text); !error.empty()) {
      return fail("WEBHOOK_HEADERS[\"" + name + "\"]: " + error);
    }
    job.headers[name] = std::move(value.text);
  }
  if (event_data != nullptr && !body_) {
    job.body = *event_data;
  } else if (body_) {
    tmpl::RenderResult body = render_one(*body_);
    if (!body.ok()) return fail("WEBHOOK_BODY: " + body.error);
    if (std::string error = surrogate_error(body.text); !error.empty()) {
      return fail("WEBHOOK_BODY: " + error);
    }
    job.body = std::move(body.text);
  }
  return job;
}

}  // namespace webhook::poller
