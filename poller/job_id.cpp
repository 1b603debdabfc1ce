#include "poller/job_id.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <stdexcept>
#include <string_view>

namespace webhook::poller {
namespace {

using Json = nlohmann::ordered_json;

constexpr char kHex[] = "0123456789abcdef";

void append_u64(uint64_t value, std::string& out) {
  char bytes[8];  // little-endian, so a database moved to another machine keeps its hashes
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((value >> (8 * i)) & 0xff);
  out.append(bytes, sizeof bytes);
}

void append_text(std::string_view text, std::string& out) {
  append_u64(text.size(), out);
  out.append(text);
}

// A type tag, then the value: strings and keys length-prefixed, numbers in binary, containers
// with their size. No two different items encode alike, and no escaping is needed.
void append_canonical(const Json& value, std::string& out) {
  using Type = Json::value_t;
  out += static_cast<char>(value.type());
  switch (value.type()) {
    case Type::string:
      append_text(value.get_ref<const std::string&>(), out);
      break;
    case Type::number_integer:
      append_u64(static_cast<uint64_t>(value.get<int64_t>()), out);
      break;
    case Type::number_unsigned:
      append_u64(value.get<uint64_t>(), out);
      break;
    case Type::number_float:
      append_u64(std::bit_cast<uint64_t>(value.get<double>()), out);
      break;
    case Type::boolean:
      out += value.get<bool>() ? '1' : '0';
      break;
    case Type::array:
      append_u64(value.size(), out);
      for (const auto& element : value.get_ref<const Json::array_t&>()) {
        append_canonical(element, out);
      }
      break;
    case Type::object:
      append_u64(value.size(), out);
      for (const auto& [key, element] : value.get_ref<const Json::object_t&>()) {
        append_text(key, out);
        append_canonical(element, out);
      }
      break;
    default:  // null, and the binary and discarded kinds a parsed answer never holds
      break;
  }
}

}  // namespace

std::string item_hash(const nlohmann::ordered_json& item) {
  thread_local std::string buffer;
  buffer.clear();
  append_canonical(item, buffer);
  // EVP_Digest would look the algorithm up and allocate a context on every call, which cost
  // more than hashing a typical item: keep both per thread.
  struct Sha256 {
    EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    EVP_MD_CTX* context = EVP_MD_CTX_new();
    ~Sha256() {
      EVP_MD_CTX_free(context);
      EVP_MD_free(md);
    }
  };
  thread_local Sha256 sha;
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (sha.md == nullptr || sha.context == nullptr ||
      EVP_DigestInit_ex2(sha.context, sha.md, nullptr) != 1 ||
      EVP_DigestUpdate(sha.context, buffer.data(), buffer.size()) != 1 ||
      EVP_DigestFinal_ex(sha.context, digest.data(), &length) != 1) {
    throw std::runtime_error("OpenSSL SHA-256 failed while hashing an item");
  }
  constexpr unsigned int kHashBytes = 16;  // 128 bits: no collision among any poll's items
  std::string out;
  out.reserve(kHashBytes * 2);
  for (unsigned int i = 0; i < kHashBytes && i < length; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xf];
  }
  return out;
}

}  // namespace webhook::poller
