#include <nlohmann/json.hpp>

#include "ctl/console/console_pages.h"
#include "ctl/console/html_text.h"
#include "ctl/time_text.h"

namespace webhook::ctl::console {
namespace {

using store::JobState;

constexpr std::size_t kBodyShown = 64 * 1024;

std::string row(std::string_view name, const std::string& html) {
  return "<tr><th>" + std::string(name) + "</th><td>" + html + "</td></tr>";
}

std::string time_cell(std::optional<int64_t> ms, int64_t now) {
  if (!ms) return "-";
  std::string age = *ms <= now ? format_age(now - *ms) + " ago" : "in " + format_age(*ms - now);
  return escape_html(format_utc(*ms)) + " <span class=\"muted\">(" + escape_html(age) + ")</span>";
}

// A JSON body pretty-printed for reading; anything else as it is.
std::string readable_body(const std::string& body) {
  auto parsed = nlohmann::ordered_json::parse(body, nullptr, false);
  if (parsed.is_discarded() || !(parsed.is_object() || parsed.is_array())) return body;
  return parsed.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string attempts_table(const std::vector<store::AttemptRow>& attempts) {
  if (attempts.empty()) return "<p class=\"muted\" id=\"no-attempts\">No attempts yet.</p>";
  std::string out =
      "<table class=\"list\" id=\"attempts\"><tr><th class=\"num\">#</th><th>Started</th>"
      "<th class=\"num\">Duration</th><th class=\"num\">HTTP</th><th>Error</th><th>Dispatcher</th>"
      "<th>Response (first bytes)</th></tr>";
  for (const auto& a : attempts) {
    std::string status = a.http_status ? std::to_string(*a.http_status) : "-";
    bool ok = a.http_status && *a.http_status >= 200 && *a.http_status < 300;
    out += "<tr class=\"attempt\"><td class=\"num\">" + std::to_string(a.number) +
           "</td><td class=\"nowrap\">" + escape_html(format_utc(a.started_at)) +
           "</td><td class=\"num nowrap\">" + std::to_string(a.duration_ms) +
           " ms</td><td class=\"num nowrap\">" +
           (a.http_status ? state_badge(ok ? "ok" : "failed") + " " : std::string()) + status +
           "</td><td class=\"attempt-error\">" + escape_html(a.error) +
           "</td><td class=\"mono nowrap\">" + escape_html(a.worker) + "</td><td>" +
           (a.response_head.empty()
                ? std::string("<span class=\"muted\">-</span>")
                : "<pre class=\"response\">" + escape_html(a.response_head) + "</pre>") +
           "</td></tr>";
  }
  return out + "</table>";
}

}  // namespace

std::string render_job(const PageContext& ctx, const store::JobDetail& d, int64_t now) {
  const auto& j = d.job;
  const std::string state(store::to_string(j.state));
  std::string body = "<h1>Job " + std::to_string(j.seq) + " " + state_badge(state) +
                     "</h1><div class=\"grid2\"><div class=\"card\"><table class=\"kv\">";
  body += row("Id", "<span class=\"mono\" id=\"job-id\">" + escape_html(j.id) + "</span>");
  body +=
      row("Feed", "<a href=\"/jobs?feed=" + url_encode(j.feed) + "\">" + escape_html(j.feed) +
                      "</a> <span class=\"muted\">(poll " + std::to_string(j.poll_id) + ")</span>");
  body += row("State", "<span id=\"job-state\">" + escape_html(state) + "</span>");
  if (j.order_key) {
    body += row("Order key", "<span class=\"mono\" id=\"order-key\">" + escape_html(*j.order_key) +
                                 "</span>" +
                                 (j.dead_blocks_key ? " <span class=\"muted\">(held while this job "
                                                      "is dead)</span>"
                                                    : ""));
  }
  body += row("Attempts", std::to_string(j.attempts) + " of " + std::to_string(j.max_attempts));
  body += row("Created", time_cell(j.created_at, now));
  body += row("Updated", time_cell(j.updated_at, now));
  if (j.state == JobState::kPending) body += row("Next attempt", time_cell(j.next_attempt_at, now));
  if (j.state == JobState::kRunning) {
    body += row("Leased by", "<span class=\"mono\">" + escape_html(j.lease_owner) +
                                 "</span> until " + time_cell(j.lease_expires_at, now));
  }
  if (j.finished_at) body += row("Finished", time_cell(j.finished_at, now));
  if (j.last_status || !j.last_error.empty()) {
    // The dispatcher's error often is "HTTP 500" already; say it once.
    std::string status = j.last_status ? "HTTP " + std::to_string(*j.last_status) : "";
    std::string text = !status.empty() && j.last_error.rfind(status, 0) == 0
                           ? j.last_error
                           : status + (status.empty() ? "" : " ") + j.last_error;
    body += row("Last result", escape_html(text));
  }
  body += "</table>";
  if (!ctx.read_only) {
    std::string base = "/jobs/" + url_encode(j.id);
    std::string forms;
    if (j.state == JobState::kDead || j.state == JobState::kCancelled) {
      forms += action_form(ctx, base + "/retry", "Retry now", "", "");
    }
    if (j.state == JobState::kPending || j.state == JobState::kDead)
      forms += action_form(ctx, base + "/cancel", "Cancel", "danger");
    if (!forms.empty()) {
      body += "<div class=\"actions\">" + forms +
              (ctx.signed_in ? "" : "<span class=\"muted\">sign in (top right) to repair</span>") +
              "</div>";
    }
  }
  body += "</div><div class=\"card\"><h3>Request</h3><pre class=\"request-line\">" +
          escape_html(j.method) + " " + escape_html(j.url) + "</pre>";
  if (j.headers.is_object() && !j.headers.empty()) {
    body += "<table class=\"kv\" id=\"headers\">";
    for (const auto& [name, value] : j.headers.items()) {
      body += "<tr><th class=\"mono\">" + escape_html(name) + "</th><td class=\"mono\">" +
              escape_html(value.is_string() ? value.get<std::string>() : value.dump()) +
              "</td></tr>";
    }
    body += "</table>";
  }
  if (!j.body.empty()) {
    body += "<h3 class=\"sub\">Body</h3><pre id=\"body\">" +
            escape_html(shorten(readable_body(j.body), kBodyShown)) + "</pre>";
  }
  body += "</div></div><h2>Attempts</h2>" + attempts_table(d.attempts);
  body += "<p class=\"muted\">As JSON: <a href=\"/api/jobs/" + url_encode(j.id) + "\">/api/jobs/" +
          escape_html(j.id) + "</a></p>";
  return render_page(ctx, "Job " + std::to_string(j.seq), "jobs", body);
}

}  // namespace webhook::ctl::console
