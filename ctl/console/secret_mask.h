// Keeps secrets off the console's pages and API answers. Two rules: a header whose name
// looks secret (Authorization, Cookie, *token*, *secret*, *key*, *password*, …) and a query
// parameter under such a name have their value replaced by "***"; and any occurrence of a
// configured secret (the OpenCTI token, webhook secrets, the console token) in any text is
// replaced too, wherever it hides. Immutable after construction; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/store/job_store.h"

namespace webhook::ctl::console {

inline constexpr std::string_view kMasked = "***";

// Whether a header or parameter name suggests its value is a credential (any case).
bool looks_secret(std::string_view name);

class SecretMask {
 public:
  // `secrets`: configured secret values; empty ones are ignored.
  explicit SecretMask(std::vector<std::string> secrets = {});

  // `text` with every configured secret replaced.
  std::string text(std::string_view text) const;
  // A URL with the password of its user info and secret-looking query values masked.
  std::string url(std::string_view url) const;
  // Headers (name -> value) with secret-looking names masked.
  nlohmann::ordered_json headers(const nlohmann::ordered_json& headers) const;

  store::JobRow job(store::JobRow job) const;
  store::AttemptRow attempt(store::AttemptRow attempt) const;
  store::PollRow poll(store::PollRow poll) const;

 private:
  std::vector<std::string> secrets_;
};

}  // namespace webhook::ctl::console
