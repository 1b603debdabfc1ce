#include "ctl/console/console_http.h"

#include <httplib.h>

#include <algorithm>

namespace webhook::ctl::console {
namespace {

// The notices a redirect may ask for: fixed sentences, so a link cannot put words on a page.
std::string notice_text(const std::string& code, const std::string& n) {
  if (code == "retried") return "Job requeued: it is pending and due now.";
  if (code == "cancelled") return "Job cancelled.";
  if (code == "signed-in") return "Signed in: retry, cancel and rewind are on.";
  if (code == "signed-out") return "Signed out.";
  if (code == "rewound") return "Feed rewound: the next poll asks again from the chosen time.";
  if (code == "retried-dead" && !n.empty() && n.size() < 10 &&
      std::all_of(n.begin(), n.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return "Requeued " + n + " dead job(s).";
  }
  return {};
}

}  // namespace

PageContext page_context(const ConsoleContext& ctx, const httplib::Request& req) {
  PageContext page;
  page.path = req.path;
  page.read_only = ctx.auth.read_only();
  std::string cookie = req.get_header_value("Cookie");
  page.signed_in = ctx.auth.signed_in(cookie);
  page.csrf = ctx.auth.csrf_for(cookie);
  page.notice = notice_text(param(req, "notice"), param(req, "n"));
  page.heartbeat_max_age_ms = ctx.heartbeat_max_age_ms;
  return page;
}

void add_security_headers(httplib::Response& res) {
  res.set_header("Content-Security-Policy",
                 "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; "
                 "form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("X-Frame-Options", "DENY");
  res.set_header("Referrer-Policy", "no-referrer");
  res.set_header("Cache-Control", "no-store");
}

void send_html(httplib::Response& res, int status, const std::string& html) {
  res.status = status;
  res.set_content(html, "text/html; charset=utf-8");
}

void send_json(httplib::Response& res, int status, const nlohmann::ordered_json& body) {
  res.status = status;
  res.set_content(body.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n",
                  "application/json");
}

std::string param(const httplib::Request& req, const std::string& name) {
  std::string v = req.get_param_value(name);
  auto not_space = [](unsigned char c) { return !std::isspace(c); };
  v.erase(v.begin(), std::find_if(v.begin(), v.end(), not_space));
  v.erase(std::find_if(v.rbegin(), v.rend(), not_space).base(), v.end());
  return v;
}

}  // namespace webhook::ctl::console
