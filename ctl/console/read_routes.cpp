// The console's read side: the pages and their JSON twins under /api (the shape of
// `webhookctl status|jobs|show --json`), and the compiled-in style sheet and script.
#include <httplib.h>

#include <algorithm>
#include <map>

#include "ctl/console/console_assets.h"
#include "ctl/console/console_http.h"
#include "ctl/console/console_pages.h"
#include "ctl/queue_json.h"

namespace webhook::ctl::console {
namespace {

using nlohmann::ordered_json;

constexpr int kPageRows = 50;
constexpr int kPollRows = 100;
constexpr int kMaxApiRows = 1000;

// A bad query parameter: 400 with a sentence naming it.
struct BadRequest {
  std::string message;
};

std::optional<int64_t> digits(const std::string& text) {
  if (text.empty() || text.size() > 18 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  return std::stoll(text);
}

store::JobFilter job_filter(const httplib::Request& req, int default_limit) {
  store::JobFilter f;
  if (std::string s = param(req, "state"); !s.empty()) {
    f.state = store::parse_job_state(s);
    if (!f.state) {
      throw BadRequest{"state must be pending, running, delivered, dead or cancelled, not '" + s +
                       "'"};
    }
  }
  if (std::string s = param(req, "feed"); !s.empty()) f.feed = s;
  if (std::string s = param(req, "q"); !s.empty()) f.text = s;
  if (std::string s = param(req, "before"); !s.empty()) {
    f.before_seq = digits(s);
    if (!f.before_seq) throw BadRequest{"before must be a job's seq number, not '" + s + "'"};
  }
  f.limit = default_limit;
  if (std::string s = param(req, "limit"); !s.empty()) {
    auto n = digits(s);
    if (!n || *n < 1 || *n > kMaxApiRows) {
      throw BadRequest{"limit must be a whole number from 1 to " + std::to_string(kMaxApiRows) +
                       ", not '" + s + "'"};
    }
    f.limit = static_cast<int>(*n);
  }
  return f;
}

ordered_json status_json(const Overview& o) {
  ordered_json feeds = ordered_json::array();
  for (const auto& f : o.feeds) feeds.push_back(feed_status_json(f));
  std::map<std::string, int64_t> latest;
  ordered_json workers = ordered_json::array();
  for (const auto& h : o.heartbeats) {
    latest[h.process] = std::max(latest[h.process], h.at);
    workers.push_back(
        {{"process", h.process}, {"worker", h.worker}, {"last_seen", time_json(h.at)}});
  }
  ordered_json beats = ordered_json::object();
  for (const char* process : {"poller", "dispatcher"}) {
    auto it = latest.find(process);
    beats[process] = it == latest.end() ? ordered_json() : time_json(it->second);
  }
  ordered_json minutes = ordered_json::array();
  for (const auto& m : o.minutes) {
    minutes.push_back({{"feed", m.feed},
                       {"minute", time_json(m.minute)},
                       {"delivered", m.delivered},
                       {"failed", m.failed}});
  }
  return {{"feeds", feeds},
          {"heartbeats", beats},
          {"workers", workers},
          {"attempts_per_minute", minutes}};
}

// Runs a handler, turning a BadRequest into a 400 page or JSON answer.
template <typename Handler>
httplib::Server::Handler guarded(ConsoleContext& ctx, bool json, Handler handler) {
  return [&ctx, json, handler](const httplib::Request& req, httplib::Response& res) {
    try {
      handler(req, res);
    } catch (const BadRequest& e) {
      if (json) {
        send_json(res, 400, {{"error", e.message}});
      } else {
        send_html(res, 400, render_message(page_context(ctx, req), 400, e.message));
      }
    }
  };
}

}  // namespace

void add_read_routes(httplib::Server& server, ConsoleContext& ctx) {
  server.Get("/console.css", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(std::string(kStyleSheet), "text/css; charset=utf-8");
  });
  server.Get("/console.js", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(std::string(kScript), "text/javascript; charset=utf-8");
  });

  server.Get("/", guarded(ctx, false, [&ctx](const httplib::Request& req, httplib::Response& res) {
               send_html(
                   res, 200,
                   render_overview(page_context(ctx, req), ctx.store.overview(ctx.clock.now_ms())));
             }));
  server.Get("/api/status",
             guarded(ctx, true, [&ctx](const httplib::Request&, httplib::Response& res) {
               send_json(res, 200, status_json(ctx.store.overview(ctx.clock.now_ms())));
             }));

  server.Get("/jobs",
             guarded(ctx, false, [&ctx](const httplib::Request& req, httplib::Response& res) {
               JobsView view;
               view.filter = job_filter(req, kPageRows);
               store::JobFilter probe = view.filter;
               probe.limit += 1;  // one more than shown tells whether an older page exists
               view.rows = ctx.store.jobs(probe);
               view.more = static_cast<int>(view.rows.size()) > view.filter.limit;
               if (view.more) view.rows.pop_back();
               view.feeds = ctx.store.feed_names();
               send_html(res, 200, render_jobs(page_context(ctx, req), view));
             }));
  server.Get("/api/jobs",
             guarded(ctx, true, [&ctx](const httplib::Request& req, httplib::Response& res) {
               ordered_json out = ordered_json::array();
               for (const auto& j : ctx.store.jobs(job_filter(req, kPageRows)))
                 out.push_back(job_json(j));
               send_json(res, 200, out);
             }));

  server.Get(R"(/jobs/([^/]+))", [&ctx](const httplib::Request& req, httplib::Response& res) {
    auto detail = ctx.store.job(req.matches[1].str());
    if (!detail) {
      send_html(res, 404,
                render_message(page_context(ctx, req), 404,
                               "no job " + std::string(req.matches[1].str())));
      return;
    }
    send_html(res, 200, render_job(page_context(ctx, req), *detail, ctx.clock.now_ms()));
  });
  server.Get(R"(/api/jobs/([^/]+))", [&ctx](const httplib::Request& req, httplib::Response& res) {
    auto detail = ctx.store.job(req.matches[1].str());
    if (!detail) {
      send_json(res, 404, {{"error", "no job " + std::string(req.matches[1].str())}});
      return;
    }
    send_json(res, 200, job_detail_json(*detail));
  });

  server.Get("/polls", [&ctx](const httplib::Request& req, httplib::Response& res) {
    std::optional<std::string> feed;
    if (std::string s = param(req, "feed"); !s.empty()) feed = s;
    auto polls = ctx.store.polls(feed, kPollRows);
    auto feeds = ctx.store.feed_names();
    send_html(res, 200, render_polls(page_context(ctx, req), polls, feed, feeds));
  });
  server.Get("/api/polls", [&ctx](const httplib::Request& req, httplib::Response& res) {
    std::optional<std::string> feed;
    if (std::string s = param(req, "feed"); !s.empty()) feed = s;
    ordered_json out = ordered_json::array();
    for (const auto& p : ctx.store.polls(feed, kPollRows)) out.push_back(poll_json(p));
    send_json(res, 200, out);
  });
}

}  // namespace webhook::ctl::console
