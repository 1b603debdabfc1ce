// Compiles one feed's templates (the query, the data and page-info locations, the URL, the
// header values and the body) and checks what the HTTP client must set itself, exactly as
// webhook-poller does at start: `webhookctl check-config` calls the same code, so both
// refuse the same settings with the same message and caret. Results are immutable and safe
// to share between threads; the functions are thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/config.h"
#include "common/template/template.h"

namespace webhook {

// WEBHOOK_URL, WEBHOOK_HEADERS and WEBHOOK_BODY, compiled.
struct RequestTemplates {
  tmpl::Template url;
  std::vector<std::pair<std::string, tmpl::Template>> headers;  // in the configured order
  std::optional<tmpl::Template> body;                           // unset: no body
  std::optional<tmpl::Template> filter;     // WEBHOOK_FILTER as `{bool(EXPR)}`; unset: none
  std::optional<tmpl::Template> order_key;  // unset: unordered
};

// The names a stream feed's templates see beside `item`, in the order they are bound.
inline constexpr std::string_view kStreamTemplateNames[] = {"event_id", "event_type"};

// Every template of a feed, compiled.
struct FeedTemplates {
  tmpl::QueryTemplate query;
  tmpl::DataLocation data_location;
  std::optional<tmpl::DataLocation> page_info_location;  // set: follow pageInfo pages
  RequestTemplates request;
};

// Compiles the request templates of `feed` (WEBHOOK_ORDER_KEY among them). Appends one message per
// problem to `problems` (the setting, the reason and, for a template, the template with a caret)
// and returns nullopt if there was any. Refuses header names that are not HTTP tokens and the
// headers that frame the request (Content-Length, Transfer-Encoding, Host, Connection), which the
// client sets itself.
std::optional<RequestTemplates> compile_request_templates(const FeedConfig& feed,
                                                          std::vector<std::string>& problems);

// compile_request_templates() and the query and data locations. `warnings`, when given,
// gets one line per template that works but is risky: a WEBHOOK_URL whose scheme or
// authority (user, host, port) is written by item data.
std::optional<FeedTemplates> compile_feed_templates(const FeedConfig& feed,
                                                    std::vector<std::string>& problems,
                                                    std::vector<std::string>* warnings = nullptr);

// A line such as `WEBHOOK_URL (feed 'works'): <reason>\n<template>\n<caret>` for a
// template that does not compile.
std::string describe_compile_error(std::string_view setting, const FeedConfig& feed,
                                   const tmpl::CompileError& error);

// True when a replacement field of the URL template `source` comes before the end of the
// URL's authority, i.e. item data can choose the scheme, the user or the host.
bool url_template_writes_authority(std::string_view source);

}  // namespace webhook
