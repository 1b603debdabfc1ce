// What the console's route handlers share: their dependencies, the PageContext of a request,
// and answers with the console's security headers (a strict Content-Security-Policy, no
// framing, no caching, no referrer). The routes themselves are in read_routes.cpp (pages and
// /api GETs) and action_routes.cpp (the POSTs). Functions are thread-safe as long as the
// ConsoleStore and Clock are (they are).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "ctl/console/console_auth.h"
#include "ctl/console/console_store.h"
#include "ctl/console/page_layout.h"

namespace httplib {
struct Request;
struct Response;
class Server;
}  // namespace httplib

namespace webhook::ctl::console {

struct ConsoleContext {
  ConsoleStore& store;
  const ConsoleAuth& auth;
  const Clock& clock;
  int64_t heartbeat_max_age_ms = 60000;
};

void add_read_routes(httplib::Server& server, ConsoleContext& ctx);
void add_action_routes(httplib::Server& server, ConsoleContext& ctx);

// The page context of `req`: sign-in state, CSRF token, the notice named by ?notice=.
PageContext page_context(const ConsoleContext& ctx, const httplib::Request& req);

void send_html(httplib::Response& res, int status, const std::string& html);
// JSON with invalid UTF-8 (a receiver's bytes) replaced rather than thrown on.
void send_json(httplib::Response& res, int status, const nlohmann::ordered_json& body);
void add_security_headers(httplib::Response& res);

// A query or form parameter, trimmed; empty when absent.
std::string param(const httplib::Request& req, const std::string& name);

}  // namespace webhook::ctl::console
