#include "ctl/console/page_layout.h"

#include "ctl/console/html_text.h"

namespace webhook::ctl::console {

std::string render_page(const PageContext& ctx, std::string_view title, std::string_view nav,
                        std::string_view body) {
  auto tab = [&](std::string_view name, std::string_view href, std::string_view label) {
    return "<a href=\"" + std::string(href) + "\"" + (nav == name ? " class=\"on\"" : "") + ">" +
           std::string(label) + "</a>";
  };
  std::string who;
  if (ctx.read_only) {
    who = "<span>read-only</span>";
  } else if (ctx.signed_in) {
    who = "<span>signed in</span>" + action_form(ctx, "/logout", "Sign out", "secondary",
                                                 "<input type=\"hidden\" name=\"return\" value=\"" +
                                                     escape_html(ctx.path) + "\">");
  } else {
    who =
        "<form class=\"inline\" method=\"post\" action=\"/login\">"
        "<input type=\"hidden\" name=\"csrf\" value=\"" +
        escape_html(ctx.csrf) + "\"><input type=\"hidden\" name=\"return\" value=\"" +
        escape_html(ctx.path) +
        "\"><input type=\"password\" name=\"token\" placeholder=\"console token\" "
        "autocomplete=\"current-password\" aria-label=\"console token\">"
        "<button type=\"submit\" class=\"secondary\">Sign in</button></form>";
  }
  std::string out =
      "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<title>" +
      escape_html(title) +
      " · opencti-webhook</title><link rel=\"icon\" href=\"data:,\"><link rel=\"stylesheet\" "
      "href=\"/console.css\"></head><body>"
      "<header class=\"top\"><a class=\"brand\" href=\"/\">opencti-webhook · delivery console</a>"
      "<nav>" +
      tab("overview", "/", "Overview") + tab("jobs", "/jobs", "Jobs") +
      tab("polls", "/polls", "Polls") + "</nav><div class=\"who\">" + who + "</div></header><main>";
  if (ctx.read_only) {
    out +=
        "<div class=\"banner readonly\" id=\"read-only\">Read-only: "
        "<code>WEBHOOK_CONSOLE_TOKEN</code> is not set, so retry, cancel and rewind are "
        "off.</div>";
  }
  if (!ctx.notice.empty()) {
    out += std::string("<div class=\"banner ") + (ctx.notice_is_error ? "error" : "ok") +
           "\" id=\"notice\" role=\"status\">" + escape_html(ctx.notice) + "</div>";
  }
  out += body;
  out +=
      "</main><footer>opencti-webhook · times in UTC</footer>"
      "<script src=\"/console.js\"></script></body></html>\n";
  return out;
}

std::string action_form(const PageContext& ctx, std::string_view action, std::string_view label,
                        std::string_view button_class, std::string_view extra) {
  std::string disabled = ctx.read_only ? " disabled title=\"read-only console\"" : "";
  return "<form class=\"inline\" method=\"post\" action=\"" + escape_html(action) +
         "\"><input type=\"hidden\" name=\"csrf\" value=\"" + escape_html(ctx.csrf) + "\">" +
         std::string(extra) + "<button type=\"submit\" class=\"" + std::string(button_class) +
         "\"" + disabled + ">" + escape_html(label) + "</button></form>";
}

std::string state_badge(std::string_view state) {
  return "<span class=\"badge " + escape_html(state) + "\">" + escape_html(state) + "</span>";
}

}  // namespace webhook::ctl::console
