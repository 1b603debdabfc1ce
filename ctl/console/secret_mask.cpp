#include "ctl/console/secret_mask.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace webhook::ctl::console {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Masks the value of each `name=value` pair of a query string whose name looks secret.
std::string mask_query(std::string_view query) {
  std::string out;
  std::size_t start = 0;
  while (start <= query.size()) {
    std::size_t end = std::min(query.find('&', start), query.size());
    std::string_view pair = query.substr(start, end - start);
    std::size_t eq = pair.find('=');
    if (eq != std::string_view::npos && looks_secret(pair.substr(0, eq))) {
      out += pair.substr(0, eq + 1);
      out += kMasked;
    } else {
      out += pair;
    }
    if (end == query.size()) break;
    out += '&';
    start = end + 1;
  }
  return out;
}

}  // namespace

bool looks_secret(std::string_view name) {
  static constexpr std::array<std::string_view, 10> kWords = {
      "auth",   "cookie",   "token",   "secret",     "key",
      "passwd", "password", "session", "credential", "signature"};
  std::string n = lower(name);
  return std::any_of(kWords.begin(), kWords.end(),
                     [&](std::string_view w) { return n.find(w) != std::string::npos; });
}

SecretMask::SecretMask(std::vector<std::string> secrets) {
  for (auto& s : secrets) {
    if (!s.empty()) secrets_.push_back(std::move(s));
  }
  // Longest first, so a secret containing another is masked whole.
  std::sort(secrets_.begin(), secrets_.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

std::string SecretMask::text(std::string_view text) const {
  std::string out(text);
  for (const auto& secret : secrets_) {
    for (std::size_t at = out.find(secret); at != std::string::npos;
         at = out.find(secret, at + kMasked.size())) {
      out.replace(at, secret.size(), kMasked);
    }
  }
  return out;
}

std::string SecretMask::url(std::string_view url) const {
  std::string out = text(url);
  // user:password@ in the authority.
  std::size_t scheme = out.find("://");
  std::size_t authority = scheme == std::string::npos ? 0 : scheme + 3;
  std::size_t authority_end = out.find_first_of("/?#", authority);
  if (authority_end == std::string::npos) authority_end = out.size();
  std::size_t at = out.rfind('@', authority_end);
  if (at != std::string::npos && at >= authority) {
    std::size_t colon = out.find(':', authority);
    if (colon != std::string::npos && colon < at) {
      out.replace(colon + 1, at - colon - 1, kMasked);
    }
  }
  std::size_t q = out.find('?');
  if (q == std::string::npos) return out;
  std::size_t hash = out.find('#', q);
  std::string fragment = hash == std::string::npos ? "" : out.substr(hash);
  std::string query = out.substr(q + 1, (hash == std::string::npos ? out.size() : hash) - q - 1);
  return out.substr(0, q + 1) + mask_query(query) + fragment;
}

nlohmann::ordered_json SecretMask::headers(const nlohmann::ordered_json& headers) const {
  if (!headers.is_object()) return nlohmann::ordered_json(text(headers.dump()));
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (const auto& [name, value] : headers.items()) {
    if (looks_secret(name)) {
      out[text(name)] = kMasked;
    } else {
      out[text(name)] = text(value.is_string() ? value.get<std::string>() : value.dump());
    }
  }
  return out;
}

store::JobRow SecretMask::job(store::JobRow job) const {
  job.url = url(job.url);
  job.headers = headers(job.headers);
  job.body = text(job.body);
  job.last_error = text(job.last_error);
  if (job.order_key) job.order_key = text(*job.order_key);
  return job;
}

store::AttemptRow SecretMask::attempt(store::AttemptRow attempt) const {
  attempt.error = text(attempt.error);
  attempt.response_head = text(attempt.response_head);
  return attempt;
}

store::PollRow SecretMask::poll(store::PollRow poll) const {
  poll.record.error = text(poll.record.error);
  return poll;
}

}  // namespace webhook::ctl::console
