// Standard Webhooks signatures (https://www.standardwebhooks.com): HMAC-SHA256 over
// "{id}.{timestamp}.{body}" with the secret's decoded bytes, sent as "v1,<base64>".
// A WebhookSigner holds the decoded key; it is immutable and safe to share between threads.
// The key never leaves the object: no accessor, no logging.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace webhook::dispatcher {

class WebhookSigner {
 public:
  // `secret` is "whsec_" followed by base64. Throws std::invalid_argument (without the
  // secret in the message) when it is not.
  explicit WebhookSigner(std::string_view secret);
  ~WebhookSigner();
  WebhookSigner(const WebhookSigner&) = delete;
  WebhookSigner& operator=(const WebhookSigner&) = delete;

  // The `webhook-signature` header value: "v1," + base64(HMAC-SHA256(key, id.ts.body)).
  std::string sign(std::string_view id, int64_t timestamp_seconds, std::string_view body) const;

 private:
  std::vector<unsigned char> key_;
};

// Standard base64 with padding.
std::string base64_encode(std::string_view bytes);
// Standard base64, padding optional, into `out`; false when `text` is not base64.
bool base64_decode(std::string_view text, std::vector<unsigned char>& out);

}  // namespace webhook::dispatcher
