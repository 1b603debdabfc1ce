#include "poller/job_id.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <stdexcept>
#include <string_view>
#include <vector>

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
// with their size, a big integer (a binary node) with its subtype and bytes. No two
// different items encode alike, and no escaping is needed. Iterative: an item's depth is
// bounded by the reader, but no walk over item data may depend on the stack's size.
void append_canonical(const Json& root, std::string& out) {
  using Type = Json::value_t;
  struct Frame {
    const Json* container;
    std::size_t next;
  };
  thread_local std::vector<Frame> stack;
  stack.clear();
  const Json* value = &root;
  while (true) {
    if (value != nullptr) {
      out += static_cast<char>(value->type());
      switch (value->type()) {
        case Type::string:
          append_text(value->get_ref<const std::string&>(), out);
          break;
        case Type::number_integer:
          append_u64(static_cast<uint64_t>(value->get<int64_t>()), out);
          break;
        case Type::number_unsigned:
          append_u64(value->get<uint64_t>(), out);
          break;
        case Type::number_float:
          append_u64(std::bit_cast<uint64_t>(value->get<double>()), out);
          break;
        case Type::boolean:
          out += value->get<bool>() ? '1' : '0';
          break;
        case Type::binary: {
          const auto& bytes = value->get_binary();
          out += bytes.has_subtype() ? static_cast<char>(bytes.subtype() & 0xff) : '\0';
          append_text(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()),
                      out);
          break;
        }
        case Type::array:
        case Type::object:
          append_u64(value->size(), out);
          if (!value->empty()) stack.push_back({value, 0});
          break;
        default:  // null, and the discarded kind a parsed answer never holds
          break;
      }
      value = nullptr;
    }
    if (stack.empty()) return;
    Frame& top = stack.back();
    if (top.next == top.container->size()) {
      stack.pop_back();
      continue;
    }
    if (top.container->is_object()) {
      const auto& entry = *(top.container->get_ref<const Json::object_t&>().begin() +
                            static_cast<std::ptrdiff_t>(top.next));
      append_text(entry.first, out);
      value = &entry.second;
    } else {
      value = &top.container->get_ref<const Json::array_t&>()[top.next];
    }
    ++top.next;
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
