#include "poller/job_id.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <stdexcept>

namespace webhook::poller {
namespace {

constexpr char kHex[] = "0123456789abcdef";

}  // namespace

std::string new_job_id() {
  // RAND_bytes locks the generator on every call; a poll makes thousands of ids, so take
  // the random bytes a few kilobytes at a time.
  thread_local std::array<unsigned char, 4096> pool{};
  thread_local std::size_t used = pool.size();
  std::array<unsigned char, 16> bytes{};
  if (used + bytes.size() > pool.size()) {
    if (RAND_bytes(pool.data(), static_cast<int>(pool.size())) != 1) {
      throw std::runtime_error("OpenSSL RAND_bytes failed while making a job id");
    }
    used = 0;
  }
  std::copy_n(pool.begin() + used, bytes.size(), bytes.begin());
  used += bytes.size();
  bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0f) | 0x40);  // version 4
  bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3f) | 0x80);  // RFC 4122 variant
  std::string out;
  out.reserve(36);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 0xf];
  }
  return out;
}

std::string item_hash(const nlohmann::ordered_json& item) {
  std::string text = item.dump();
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (EVP_Digest(text.data(), text.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("OpenSSL SHA-256 failed while hashing an item");
  }
  std::string out;
  out.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xf];
  }
  return out;
}

}  // namespace webhook::poller
