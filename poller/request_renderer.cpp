#include "poller/request_renderer.h"

#include <cctype>

#include "poller/job_id.h"
#include "poller/sendable_url.h"

namespace webhook::poller {
namespace {

bool valid_header_name(std::string_view name) {
  if (name.empty()) return false;
  for (unsigned char c : name) {
    // RFC 9110 token characters.
    if (std::isalnum(c) == 0 &&
        std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string describe_compile_error(std::string_view setting, const FeedConfig& feed,
                                   const tmpl::CompileError& error) {
  std::string where(setting);
  if (feed.name != "default") where += " (feed '" + feed.name + "')";
  return where + ": " + error.what();
}

std::optional<RequestRenderer> RequestRenderer::compile(const FeedConfig& feed,
                                                        std::vector<std::string>& problems) {
  RequestRenderer r;
  std::size_t before = problems.size();
  r.method_ = feed.method.empty() ? "GET" : feed.method;
  r.max_attempts_ = feed.retry_attempts + 1;
  try {
    r.url_ = tmpl::Template::compile(feed.url);
  } catch (const tmpl::CompileError& e) {
    problems.push_back(describe_compile_error("WEBHOOK_URL", feed, e));
  }
  if (feed.headers.is_object()) {
    for (const auto& [name, value] : feed.headers.items()) {
      std::string setting = "WEBHOOK_HEADERS[\"" + name + "\"]";
      if (!valid_header_name(name)) {
        problems.push_back(setting + ": '" + name + "' is not a valid HTTP header name");
        continue;
      }
      if (!value.is_string()) {
        problems.push_back(setting + ": expected a template string");
        continue;
      }
      try {
        r.headers_.emplace_back(name, tmpl::Template::compile(value.get<std::string>()));
      } catch (const tmpl::CompileError& e) {
        problems.push_back(describe_compile_error(setting, feed, e));
      }
    }
  }
  if (!feed.body.empty()) {
    try {
      r.body_ = tmpl::Template::compile(feed.body);
    } catch (const tmpl::CompileError& e) {
      problems.push_back(describe_compile_error("WEBHOOK_BODY", feed, e));
    }
  }
  if (problems.size() != before) return std::nullopt;
  return r;
}

store::NewJob RequestRenderer::render(const nlohmann::ordered_json& item) const {
  store::NewJob job;
  job.id = store::make_job_id();
  job.method = method_;
  job.max_attempts = max_attempts_;
  auto fail = [&](std::string error) {
    job.dead = true;
    job.last_error = std::move(error);
    job.headers = nlohmann::ordered_json::object();
    job.body = item.dump();
    return std::move(job);
  };

  tmpl::RenderResult url = url_.render(item);
  if (!url.ok()) {
    job.url = url_.source();
    return fail("WEBHOOK_URL: " + url.error);
  }
  SendableUrl sendable = make_sendable_url(url.text);
  if (!sendable.ok()) {
    job.url = url.text;
    return fail("WEBHOOK_URL: " + sendable.error);
  }
  job.url = std::move(sendable.url);

  for (const auto& [name, header] : headers_) {
    tmpl::RenderResult value = header.render(item);
    if (!value.ok()) return fail("WEBHOOK_HEADERS[\"" + name + "\"]: " + value.error);
    if (value.text.find_first_of("\r\n") != std::string::npos) {
      return fail("WEBHOOK_HEADERS[\"" + name + "\"]: the value holds a line break");
    }
    job.headers[name] = std::move(value.text);
  }
  if (body_) {
    tmpl::RenderResult body = body_->render(item);
    if (!body.ok()) return fail("WEBHOOK_BODY: " + body.error);
    job.body = std::move(body.text);
  }
  return job;
}

}  // namespace webhook::poller
