#include "ctl/console/console_pages.h"
#include "ctl/console/html_text.h"
#include "ctl/time_text.h"

namespace webhook::ctl::console {
namespace {

using store::JobState;

// When the job next matters, as `webhookctl jobs` says it.
std::string when_text(const store::JobRow& j) {
  switch (j.state) {
    case JobState::kPending:
      return "due " + format_utc(j.next_attempt_at);
    case JobState::kRunning:
      return "lease to " + format_utc(j.lease_expires_at);
    default:
      return "done " + (j.finished_at ? format_utc(*j.finished_at) : std::string("-"));
  }
}

std::string option(std::string_view value, std::string_view label, bool selected) {
  return "<option value=\"" + escape_html(value) + "\"" + (selected ? " selected" : "") + ">" +
         escape_html(label) + "</option>";
}

// The query string of the current filter, for the pager.
std::string filter_query(const store::JobFilter& f) {
  std::string q;
  auto add = [&](std::string_view name, const std::string& value) {
    q += (q.empty() ? "" : "&") + std::string(name) + "=" + url_encode(value);
  };
  if (f.state) add("state", std::string(store::to_string(*f.state)));
  if (f.feed) add("feed", *f.feed);
  if (f.text) add("q", *f.text);
  return q;
}

}  // namespace

std::string render_jobs(const PageContext& ctx, const JobsView& v) {
  const auto& f = v.filter;
  std::string body = "<h1>Jobs</h1><form class=\"filters\" method=\"get\" action=\"/jobs\">";
  body += "<select name=\"state\" aria-label=\"state\">" + option("", "any state", !f.state);
  for (JobState s : store::kAllJobStates) {
    body += option(store::to_string(s), store::to_string(s), f.state == s);
  }
  body += "</select><select name=\"feed\" aria-label=\"feed\">" + option("", "any feed", !f.feed);
  bool listed = false;
  for (const auto& feed : v.feeds) {
    body += option(feed, feed, f.feed == feed);
    listed = listed || f.feed == feed;
  }
  if (f.feed && !listed) body += option(*f.feed, *f.feed, true);
  body +=
      "</select><input name=\"q\" size=\"28\" placeholder=\"id, URL, body or error contains\" "
      "aria-label=\"text\" value=\"" +
      escape_html(f.text.value_or("")) +
      "\"><button type=\"submit\">Filter</button><a href=\"/jobs\">clear</a></form>";
  if (v.rows.empty()) {
    body += "<p class=\"muted\" id=\"no-jobs\">No jobs match.</p>";
    return render_page(ctx, "Jobs", "jobs", body);
  }
  body +=
      "<table class=\"list\" id=\"jobs\"><tr><th class=\"num\">Seq</th><th>Job</th><th>Feed</th>"
      "<th>State</th><th class=\"num\">Tries</th><th>When</th><th class=\"num\">HTTP</th>"
      "<th>URL</th><th>Last error</th></tr>";
  for (const auto& j : v.rows) {
    std::string href = "/jobs/" + url_encode(j.id);
    body += "<tr data-id=\"" + escape_html(j.id) + "\"><td class=\"num\">" + std::to_string(j.seq) +
            "</td><td class=\"mono\"><a href=\"" + href + "\">" + escape_html(j.id) +
            "</a></td><td>" + escape_html(j.feed) + "</td><td>" +
            state_badge(store::to_string(j.state)) + "</td><td class=\"num\">" +
            std::to_string(j.attempts) + "/" + std::to_string(j.max_attempts) + "</td><td>" +
            escape_html(when_text(j)) + "</td><td class=\"num\">" +
            (j.last_status ? std::to_string(*j.last_status) : "-") +
            "</td><td class=\"cut mono\">" + escape_html(shorten(j.url, 120)) +
            "</td><td class=\"cut\">" + escape_html(shorten(j.last_error, 120)) + "</td></tr>";
  }
  body += "</table><div class=\"pager\">";
  std::string q = filter_query(f);
  if (f.before_seq)
    body += "<a href=\"/jobs" + escape_html(q.empty() ? "" : "?" + q) + "\">« newest</a>";
  if (v.more) {
    body +=
        "<a id=\"older\" href=\"/jobs?" +
        escape_html((q.empty() ? "" : q + "&") + "before=" + std::to_string(v.rows.back().seq)) +
        "\">older »</a>";
  }
  body += "</div>";
  return render_page(ctx, "Jobs", "jobs", body);
}

}  // namespace webhook::ctl::console
