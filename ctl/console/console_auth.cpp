#include "ctl/console/console_auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <stdexcept>

namespace webhook::ctl::console {
namespace {

std::string hex(const unsigned char* data, std::size_t size) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < size; ++i) {
    out += kHex[data[i] >> 4];
    out += kHex[data[i] & 15];
  }
  return out;
}

std::string hmac_hex(std::string_view key, std::string_view message) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
            reinterpret_cast<const unsigned char*>(message.data()), message.size(), out, &size)) {
    throw std::runtime_error("console: HMAC-SHA256 failed");
  }
  return hex(out, size);
}

bool same(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The host:port part of an Origin such as "http://127.0.0.1:9097".
std::string_view origin_host(std::string_view origin) {
  std::size_t scheme = origin.find("://");
  if (scheme != std::string_view::npos) origin.remove_prefix(scheme + 3);
  return origin.substr(0, origin.find('/'));
}

}  // namespace

int http_status(Verdict verdict) {
  switch (verdict) {
    case Verdict::kAllowed:
      return 200;
    case Verdict::kMissing:
      return 401;
    default:
      return 403;
  }
}

std::string explain(Verdict verdict) {
  switch (verdict) {
    case Verdict::kAllowed:
      return "allowed";
    case Verdict::kReadOnly:
      return "the console is read-only: WEBHOOK_CONSOLE_TOKEN is not set";
    case Verdict::kMissing:
      return "this action needs the console token (sign in, or send Authorization: Bearer)";
    case Verdict::kWrongToken:
      return "wrong console token";
    case Verdict::kBadCsrf:
      return "the form's CSRF token is missing or stale; reload the page and try again";
    case Verdict::kCrossOrigin:
      return "cross-site request refused";
  }
  return "refused";
}

ConsoleAuth::ConsoleAuth(std::optional<std::string> token) {
  if (token && !token->empty()) {
    token_ = std::move(token);
    session_ = hmac_hex(*token_, "opencti-webhook console session v1");
  }
  unsigned char key[32];
  if (RAND_bytes(key, sizeof key) != 1) throw std::runtime_error("console: no random bytes");
  csrf_key_ = hex(key, sizeof key);
}

std::string ConsoleAuth::session_from(std::string_view cookie_header) const {
  // "a=1; webhook_console_session=abc; b=2"
  while (!cookie_header.empty()) {
    std::size_t end = cookie_header.find(';');
    std::string_view pair = trim(cookie_header.substr(0, end));
    std::size_t eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == kSessionCookie) {
      return std::string(pair.substr(eq + 1));
    }
    if (end == std::string_view::npos) break;
    cookie_header.remove_prefix(end + 1);
  }
  return {};
}

bool ConsoleAuth::signed_in(std::string_view cookie_header) const {
  return token_ && same(session_from(cookie_header), session_);
}

std::string ConsoleAuth::csrf_for(std::string_view cookie_header) const {
  return hmac_hex(csrf_key_, "csrf:" + (signed_in(cookie_header) ? session_ : std::string()));
}

Verdict ConsoleAuth::check(const Credentials& r) const {
  if (!token_) return Verdict::kReadOnly;
  if (!r.origin.empty() && r.origin != "null" && origin_host(r.origin) != r.host) {
    return Verdict::kCrossOrigin;
  }
  std::string_view auth = trim(r.authorization);
  if (!auth.empty()) {
    // A bearer token is no ambient credential (a browser never adds it by itself), so a
    // request carrying one needs no CSRF token.
    constexpr std::string_view kBearer = "Bearer ";
    if (auth.size() <= kBearer.size() || auth.substr(0, kBearer.size()) != kBearer) {
      return Verdict::kWrongToken;
    }
    return same(trim(auth.substr(kBearer.size())), *token_) ? Verdict::kAllowed
                                                            : Verdict::kWrongToken;
  }
  std::string session = session_from(r.cookie);
  if (session.empty()) return Verdict::kMissing;
  if (!same(session, session_)) return Verdict::kWrongToken;
  return same(r.csrf, csrf_for(r.cookie)) ? Verdict::kAllowed : Verdict::kBadCsrf;
}

Verdict ConsoleAuth::check_sign_in(std::string_view token, const Credentials& r) const {
  if (!token_) return Verdict::kReadOnly;
  if (!r.origin.empty() && r.origin != "null" && origin_host(r.origin) != r.host) {
    return Verdict::kCrossOrigin;
  }
  if (!same(r.csrf, csrf_for(r.cookie))) return Verdict::kBadCsrf;
  if (token.empty()) return Verdict::kMissing;
  return same(token, *token_) ? Verdict::kAllowed : Verdict::kWrongToken;
}

std::string ConsoleAuth::session_set_cookie(bool secure) const {
  return std::string(kSessionCookie) + "=" + session_ + "; Path=/; HttpOnly; SameSite=Strict" +
         (secure ? "; Secure" : "");
}

std::string ConsoleAuth::sign_out_set_cookie() {
  return std::string(kSessionCookie) + "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0";
}

}  // namespace webhook::ctl::console
