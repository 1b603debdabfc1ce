// Who may repair through the console. The repairs need WEBHOOK_CONSOLE_TOKEN, sent as
// `Authorization: Bearer TOKEN` (scripts) or entered once in the sign-in form, which sets an
// HttpOnly, SameSite=Strict cookie holding HMAC(token) rather than the token itself. A
// browser's form POST must also carry the CSRF token of the page it came from: an
// HMAC, under a key drawn at start, of the session it was rendered for. No token configured:
// the console is read-only. Comparisons are constant-time. Immutable after construction;
// thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace webhook::ctl::console {

inline constexpr std::string_view kSessionCookie = "webhook_console_session";

// What a request may do, and why not.
enum class Verdict {
  kAllowed,
  kReadOnly,     // no WEBHOOK_CONSOLE_TOKEN configured: 403
  kMissing,      // no credential sent: 401
  kWrongToken,   // a credential that is not the token: 403
  kBadCsrf,      // a cookie-authenticated form without this session's CSRF token: 403
  kCrossOrigin,  // an Origin header naming another site: 403
};

// The parts of a request the verdict depends on.
struct Credentials {
  std::string authorization;  // the Authorization header
  std::string cookie;         // the Cookie header
  std::string csrf;           // the form's csrf field
  std::string origin;         // the Origin header
  std::string host;           // the Host header
};

int http_status(Verdict verdict);
std::string explain(Verdict verdict);

class ConsoleAuth {
 public:
  // `token`: WEBHOOK_CONSOLE_TOKEN, nullopt or empty when unset.
  explicit ConsoleAuth(std::optional<std::string> token);

  bool read_only() const { return !token_; }

  // Whether the request may perform a repair.
  Verdict check(const Credentials& request) const;
  // Whether the sign-in form's token is right (and its CSRF token the anonymous one).
  Verdict check_sign_in(std::string_view token, const Credentials& request) const;

  // Whether the Cookie header holds a valid session.
  bool signed_in(std::string_view cookie_header) const;
  // The CSRF token to put in the forms of a page rendered for this Cookie header.
  std::string csrf_for(std::string_view cookie_header) const;
  // The Set-Cookie value that signs a browser in (`secure`: behind a TLS proxy, so the
  // cookie is only ever sent over TLS), and the one that signs it out.
  std::string session_set_cookie(bool secure) const;
  static std::string sign_out_set_cookie();

 private:
  std::string session_from(std::string_view cookie_header) const;

  std::optional<std::string> token_;
  std::string session_;   // hex HMAC-SHA256(token, fixed label); empty when read-only
  std::string csrf_key_;  // random, drawn at construction
};

}  // namespace webhook::ctl::console
