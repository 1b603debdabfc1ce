#include "ctl/console/console_pages.h"
#include "ctl/console/html_text.h"
#include "ctl/time_text.h"

namespace webhook::ctl::console {

std::string render_polls(const PageContext& ctx, const std::vector<store::PollRow>& polls,
                         const std::optional<std::string>& feed,
                         const std::vector<std::string>& feeds) {
  std::string body =
      "<h1>Polls</h1><form class=\"filters\" method=\"get\" action=\"/polls\"><select "
      "name=\"feed\" aria-label=\"feed\"><option value=\"\">any feed</option>";
  for (const auto& f : feeds) {
    body += "<option value=\"" + escape_html(f) + "\"" + (feed == f ? " selected" : "") + ">" +
            escape_html(f) + "</option>";
  }
  body += "</select><button type=\"submit\">Filter</button></form>";
  if (polls.empty()) {
    body += "<p class=\"muted\">No polls recorded.</p>";
    return render_page(ctx, "Polls", "polls", body);
  }
  body +=
      "<table class=\"list\" id=\"polls\"><tr><th class=\"num\">Id</th><th>Feed</th><th>Result</th>"
      "<th>Started</th><th class=\"num\">Took</th><th>Window</th><th class=\"num\">Items</th>"
      "<th class=\"num\">Enqueued</th><th class=\"num\">Duplicates</th>"
      "<th class=\"num\">Render errors</th><th>Reason</th></tr>";
  for (const auto& p : polls) {
    const auto& r = p.record;
    body += "<tr><td class=\"num\">" + std::to_string(p.id) +
            "</td><td><a href=\"/polls?feed=" + url_encode(r.feed) + "\">" + escape_html(r.feed) +
            "</a></td><td>" + state_badge(r.ok ? "ok" : "failed") + "</td><td>" +
            escape_html(format_utc(r.started_at)) + "</td><td class=\"num\">" +
            escape_html(format_age(r.finished_at - r.started_at)) + "</td><td class=\"mono\">" +
            escape_html(format_utc(r.window_from).substr(0, 19)) + " → " +
            escape_html(format_utc(r.window_to).substr(11, 8)) + "</td><td class=\"num\">" +
            std::to_string(r.items_found) + "</td><td class=\"num\">" +
            std::to_string(r.jobs_enqueued) + "</td><td class=\"num\">" +
            std::to_string(r.duplicates_skipped) + "</td><td class=\"num\">" +
            std::to_string(r.render_errors) + "</td><td class=\"poll-error\">" +
            escape_html(r.error) + "</td></tr>";
  }
  body += "</table>";
  return render_page(ctx, "Polls", "polls", body);
}

}  // namespace webhook::ctl::console
