// The console's repairs, as POSTs: retry or cancel a job, retry a feed's dead jobs, rewind
// a feed, and signing in and out. Each checks ConsoleAuth first and changes nothing when it
// refuses. A form POST answers with a redirect to the page it acts on (303, so a reload
// does not post again); the same routes under /api answer JSON, as `webhookctl … --json`.
#include <httplib.h>

#include <functional>

#include "ctl/console/console_http.h"
#include "ctl/console/console_pages.h"
#include "ctl/console/html_text.h"
#include "ctl/time_text.h"

namespace webhook::ctl::console {
namespace {

using nlohmann::ordered_json;

Credentials credentials(const httplib::Request& req) {
  return {req.get_header_value("Authorization"), req.get_header_value("Cookie"),
          req.get_param_value("csrf"), req.get_header_value("Origin"),
          req.get_header_value("Host")};
}

// Only a path of this console: never another site (an open redirect).
std::string safe_return(const std::string& path) {
  if (path.empty() || path[0] != '/' || (path.size() > 1 && (path[1] == '/' || path[1] == '\\')))
    return "/";
  for (char c : path) {
    if (static_cast<unsigned char>(c) < 0x20) return "/";
  }
  return path;
}

void redirect(httplib::Response& res, const std::string& to) {
  res.status = 303;
  res.set_header("Location", to);
}

// One repair: what it does to the store, where the form's redirect goes on success, and
// the JSON key of its count.
struct Action {
  std::function<ActionResult(const httplib::Request&, int64_t now)> run;
  std::function<std::string(const httplib::Request&, const ActionResult&)> done_page;
  const char* count_key;
};

httplib::Server::Handler handler(ConsoleContext& ctx, Action action, bool json) {
  return [&ctx, action, json](const httplib::Request& req, httplib::Response& res) {
    Verdict verdict = ctx.auth.check(credentials(req));
    ActionResult result;
    if (verdict != Verdict::kAllowed) {
      result = {http_status(verdict), explain(verdict)};
      if (verdict == Verdict::kMissing) res.set_header("WWW-Authenticate", "Bearer");
    } else {
      result = action.run(req, ctx.clock.now_ms());
    }
    if (json) {
      if (result.status == 200) {
        send_json(res, 200, {{action.count_key, result.changed}});
      } else {
        send_json(res, result.status, {{"error", result.message}});
      }
    } else if (result.status == 200) {
      redirect(res, action.done_page(req, result));
    } else {
      send_html(res, result.status,
                render_message(page_context(ctx, req), result.status, result.message));
    }
  };
}

void add(httplib::Server& server, ConsoleContext& ctx, const std::string& pattern, Action action) {
  server.Post(pattern, handler(ctx, action, false));
  server.Post("/api" + pattern, handler(ctx, action, true));
}

}  // namespace

void add_action_routes(httplib::Server& server, ConsoleContext& ctx) {
  ConsoleStore& store = ctx.store;
  auto job_page = [](const httplib::Request& req, const char* notice) {
    return "/jobs/" + url_encode(req.matches[1].str()) + "?notice=" + notice;
  };
  add(server, ctx, R"(/jobs/([^/]+)/retry)",
      {[&store](const httplib::Request& req, int64_t now) {
         return store.retry(req.matches[1], now);
       },
       [job_page](const httplib::Request& req, const ActionResult&) {
         return job_page(req, "retried");
       },
       "requeued"});
  add(server, ctx, R"(/jobs/([^/]+)/cancel)",
      {[&store](const httplib::Request& req, int64_t now) {
         return store.cancel(req.matches[1], now);
       },
       [job_page](const httplib::Request& req, const ActionResult&) {
         return job_page(req, "cancelled");
       },
       "cancelled"});
  add(server, ctx, R"(/feeds/([^/]+)/retry-dead)",
      {[&store](const httplib::Request& req, int64_t now) {
         return store.retry_dead(req.matches[1], now);
       },
       [](const httplib::Request& req, const ActionResult& r) {
         return "/jobs?feed=" + url_encode(req.matches[1].str()) +
                "&state=pending&notice=retried-dead&n=" + std::to_string(r.changed);
       },
       "requeued"});
  add(server, ctx, R"(/feeds/([^/]+)/rewind)",
      {[&store](const httplib::Request& req, int64_t now) {
         return store.rewind(req.matches[1], param(req, "to"), now);
       },
       [](const httplib::Request&, const ActionResult&) { return std::string("/?notice=rewound"); },
       "rewound"});

  server.Post("/login", [&ctx](const httplib::Request& req, httplib::Response& res) {
    Verdict verdict = ctx.auth.check_sign_in(req.get_param_value("token"), credentials(req));
    if (verdict != Verdict::kAllowed) {
      send_html(res, http_status(verdict),
                render_message(page_context(ctx, req), http_status(verdict), explain(verdict)));
      return;
    }
    res.set_header("Set-Cookie", ctx.auth.session_set_cookie(
                                     req.get_header_value("X-Forwarded-Proto") == "https"));
    std::string to = safe_return(req.get_param_value("return"));
    redirect(res, to + (to.find('?') == std::string::npos ? "?" : "&") + "notice=signed-in");
  });
  server.Post("/logout", [&ctx](const httplib::Request& req, httplib::Response& res) {
    // Signing out needs the page's CSRF token, so another site cannot sign a browser out.
    Credentials c = credentials(req);
    if (!ctx.auth.signed_in(c.cookie) || c.csrf != ctx.auth.csrf_for(c.cookie)) {
      send_html(res, 403, render_message(page_context(ctx, req), 403, explain(Verdict::kBadCsrf)));
      return;
    }
    res.set_header("Set-Cookie", ConsoleAuth::sign_out_set_cookie());
    redirect(res, "/?notice=signed-out");
  });
}

}  // namespace webhook::ctl::console
