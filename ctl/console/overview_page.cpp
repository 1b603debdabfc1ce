#include <map>

#include "ctl/console/console_pages.h"
#include "ctl/console/delivery_chart.h"
#include "ctl/console/html_text.h"
#include "ctl/time_text.h"

namespace webhook::ctl::console {
namespace {

using store::JobState;

constexpr const auto& kStates = store::kAllJobStates;

std::string count_of(const store::FeedStatus& f, JobState s) {
  auto it = f.counts.find(s);
  return std::to_string(it == f.counts.end() ? 0 : it->second);
}

std::string feed_card(const PageContext& ctx, const Overview& o, const store::FeedStatus& f) {
  const std::string feed = escape_html(f.feed);
  const std::string feed_q = url_encode(f.feed);
  std::string out = "<section class=\"card feed\" data-feed=\"" + feed + "\"><h3>" + feed +
                    " <span class=\"badge\" title=\"how this feed reads OpenCTI\">poll</span>";
  if (f.last_poll) out += state_badge(f.last_poll->record.ok ? "ok" : "failed");
  out += "</h3><div class=\"grid2\"><table class=\"kv\">";
  out += "<tr><th>Cursor</th><td>" +
         (f.cursor ? escape_html(format_utc(*f.cursor)) : std::string("-")) + "</td></tr>";
  out += "<tr><th>Last poll</th><td>";
  if (f.last_poll) {
    const auto& r = f.last_poll->record;
    out += escape_html(format_utc(r.finished_at)) + " <span class=\"muted\">(" +
           escape_html(format_age(o.now - r.finished_at)) + " ago)</span>, ";
    if (r.ok) {
      out += std::to_string(r.items_found) + " item(s), " + std::to_string(r.jobs_enqueued) +
             " enqueued";
    } else {
      out += "<span class=\"poll-error\">failed: " + escape_html(shorten(r.error, 300)) + "</span>";
    }
  } else {
    out += "never";
  }
  out += " · <a href=\"/polls?feed=" + feed_q + "\">history</a></td></tr>";
  out += "<tr><th>Oldest pending</th><td>" +
         (f.oldest_pending_created_at
              ? escape_html(format_age(o.now - *f.oldest_pending_created_at)) + " old"
              : std::string("-")) +
         "</td></tr></table><div>";
  out += "<div class=\"counts\">";
  for (JobState s : kStates) {
    std::string name(store::to_string(s));
    out += "<a href=\"/jobs?feed=" + feed_q + "&amp;state=" + name + "\">" + state_badge(name) +
           "<b class=\"count\" data-feed=\"" + feed + "\" data-state=\"" + name + "\">" +
           count_of(f, s) + "</b></a>";
  }
  out += "</div>" + delivery_chart(o.minutes, f.feed, o.now) + "</div></div>";
  if (!ctx.read_only) {
    out += "<div class=\"actions\">" +
           action_form(ctx, "/feeds/" + feed_q + "/retry-dead", "Retry all dead", "secondary") +
           action_form(ctx, "/feeds/" + feed_q + "/rewind", "Rewind", "secondary",
                       "<input name=\"to\" placeholder=\"2024-05-01T12:00:00Z or 1679004823824-0\" "
                       "required aria-label=\"rewind to a time or a stream id\">") +
           "</div>";
  }
  return out + "</section>";
}

// Order keys held by a dead job (WEBHOOK_ORDER_ON_DEAD=block): the job to retry or cancel.
std::string blocked_keys(const Overview& o) {
  if (o.blocked.empty()) return "";
  std::string out =
      "<h2>Blocked order keys</h2><p class=\"muted\">Each key waits for its dead job: retry "
      "it to send it again, or cancel it to let the key go on.</p><table class=\"list\" "
      "id=\"blocked-keys\"><tr><th>Feed</th><th>Order key</th><th>Blocked by</th><th>Dead "
      "since</th><th>Waiting</th><th>Last error</th></tr>";
  for (const auto& k : o.blocked) {
    out += "<tr><td>" + escape_html(k.feed) + "</td><td class=\"mono\">" +
           escape_html(k.order_key) + "</td><td><a href=\"/jobs/" + url_encode(k.blocking_id) +
           "\">" + std::to_string(k.blocking_seq) + "</a></td><td>" +
           escape_html(format_utc(k.dead_since)) + "</td><td class=\"count\">" +
           std::to_string(k.waiting) + "</td><td>" + escape_html(k.last_error) + "</td></tr>";
  }
  return out + "</table>";
}

std::string workers(const PageContext& ctx, const Overview& o) {
  std::string out = "<h2>Processes</h2>";
  if (o.heartbeats.empty()) {
    return out + "<p class=\"muted\">No poller or dispatcher has written a heartbeat yet.</p>";
  }
  out +=
      "<table class=\"list\" id=\"processes\"><tr><th>Process</th><th>Worker</th><th>Last "
      "seen</th><th>State</th></tr>";
  for (const auto& h : o.heartbeats) {
    bool alive = o.now - h.at <= ctx.heartbeat_max_age_ms;
    out += "<tr><td>" + escape_html(h.process) + "</td><td class=\"mono\">" +
           escape_html(h.worker) + "</td><td>" + escape_html(format_utc(h.at)) +
           " <span class=\"muted\">(" +
           escape_html(format_age(std::max<int64_t>(0, o.now - h.at))) + " ago)</span></td><td>" +
           state_badge(alive ? "alive" : "silent") + "</td></tr>";
  }
  return out + "</table>";
}

}  // namespace

std::string render_overview(const PageContext& ctx, const Overview& o) {
  std::map<JobState, int64_t> totals;
  for (const auto& f : o.feeds) {
    for (const auto& [s, n] : f.counts) totals[s] += n;
  }
  std::string body =
      "<h1>Overview <label class=\"muted refresh\" hidden>"
      "<input type=\"checkbox\" id=\"autorefresh\"> auto-refresh</label></h1><div "
      "class=\"tiles\">";
  for (JobState s : kStates) {
    std::string name(store::to_string(s));
    body += "<a class=\"tile\" href=\"/jobs?state=" + name +
            "\"><div class=\"n total\" data-state=\"" + name + "\">" + std::to_string(totals[s]) +
            "</div><div class=\"l\">" + name + "</div></a>";
  }
  body += "</div><h2>Feeds</h2>";
  if (o.feeds.empty()) {
    body += "<p class=\"muted\">No feed has polled yet and the queue is empty.</p>";
  }
  for (const auto& f : o.feeds) body += feed_card(ctx, o, f);
  body += blocked_keys(o);
  body += workers(ctx, o);
  return render_page(ctx, "Overview", "overview", body);
}

std::string render_message(const PageContext& ctx, int status, const std::string& message) {
  std::string body = "<h1>" + std::to_string(status) +
                     "</h1><div class=\"banner error\" id=\"message\">" + escape_html(message) +
                     "</div><p><a href=\"/\">Back to the overview</a></p>";
  return render_page(ctx, std::to_string(status), "", body);
}

}  // namespace webhook::ctl::console
