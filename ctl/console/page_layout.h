// The frame every console page shares: head, navigation, the sign-in state, the read-only
// banner and a notice, around a page's own body. Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace webhook::ctl::console {

// What a page knows about the request it answers.
struct PageContext {
  std::string path;        // the request path and query, the sign-in form returns there
  bool read_only = true;   // no WEBHOOK_CONSOLE_TOKEN configured
  bool signed_in = false;  // the request carries a valid session cookie
  std::string csrf;        // goes into every form
  std::string notice;      // a sentence to show at the top (escaped here), or empty
  bool notice_is_error = false;
  int64_t heartbeat_max_age_ms = 60000;  // WEBHOOK_HEALTH_MAX_HEARTBEAT_AGE
};

// A whole HTML document. `nav` names the active tab ("overview", "jobs", "polls");
// `body` is HTML built by the page (already escaped).
std::string render_page(const PageContext& ctx, std::string_view title, std::string_view nav,
                        std::string_view body);

// A POST form with the CSRF token and one button; `button_class` e.g. "danger".
// `extra` is more HTML inside the form (inputs), already escaped.
std::string action_form(const PageContext& ctx, std::string_view action, std::string_view label,
                        std::string_view button_class = "", std::string_view extra = "");

// <span class="badge STATE">state</span>
std::string state_badge(std::string_view state);

}  // namespace webhook::ctl::console
