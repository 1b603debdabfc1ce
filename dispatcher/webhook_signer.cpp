#include "dispatcher/webhook_signer.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <stdexcept>

namespace webhook::dispatcher {

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

bool base64_decode(std::string_view text, std::vector<unsigned char>& out) {
  std::string padded(text);
  while (padded.size() % 4 != 0) padded.push_back('=');
  if (padded.empty()) return false;
  for (char c : padded) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/' || c == '=';
    if (!ok) return false;
  }
  out.assign(3 * padded.size() / 4, 0);
  int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(padded.data()),
                          static_cast<int>(padded.size()));
  if (n < 0) return false;
  // EVP_DecodeBlock counts the bytes the padding stands for; drop them.
  std::size_t pad = 0;
  for (auto it = padded.rbegin(); it != padded.rend() && *it == '='; ++it) ++pad;
  if (pad > 2) return false;
  out.resize(static_cast<std::size_t>(n) - pad);
  return true;
}

WebhookSigner::WebhookSigner(std::string_view secret) {
  constexpr std::string_view kPrefix = "whsec_";
  if (secret.substr(0, kPrefix.size()) != kPrefix) {
    throw std::invalid_argument("WEBHOOK_SECRET: expected whsec_ followed by base64");
  }
  if (!base64_decode(secret.substr(kPrefix.size()), key_) || key_.empty()) {
    throw std::invalid_argument("WEBHOOK_SECRET: the part after whsec_ is not valid base64");
  }
}

WebhookSigner::~WebhookSigner() { OPENSSL_cleanse(key_.data(), key_.size()); }

std::string WebhookSigner::sign(std::string_view id, int64_t timestamp_seconds,
                                std::string_view body) const {
  std::string message;
  message.reserve(id.size() + body.size() + 24);
  message.append(id).append(".").append(std::to_string(timestamp_seconds)).append(".");
  message.append(body);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
           reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest,
           &length) == nullptr) {
    throw std::runtime_error("HMAC-SHA256 failed while signing a webhook");
  }
  return "v1," + base64_encode(std::string_view(reinterpret_cast<char*>(digest), length));
}

}  // namespace webhook::dispatcher
