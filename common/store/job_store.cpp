#include "common/store/job_store.h"

#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <stdexcept>

namespace webhook::store {

std::string_view to_string(JobState state) {
  switch (state) {
    case JobState::kPending:
      return "pending";
    case JobState::kRunning:
      return "running";
    case JobState::kDelivered:
      return "delivered";
    case JobState::kDead:
      return "dead";
    case JobState::kCancelled:
      return "cancelled";
    case JobState::kSuperseded:
      return "superseded";
  }
  return "unknown";
}

std::optional<JobState> parse_job_state(std::string_view text) {
  for (JobState s : kAllJobStates) {
    if (to_string(s) == text) return s;
  }
  return std::nullopt;
}

std::string make_job_id(int64_t now_ms) {
  // 48 bits of milliseconds, then 74 random bits (RFC 9562 section 5.7). RAND_bytes locks
  // the generator on every call and a poll makes thousands of ids, so the random bytes are
  // taken a few kilobytes at a time.
  thread_local std::array<unsigned char, 4096> pool{};
  thread_local std::size_t used = pool.size();
  std::array<unsigned char, 16> b{};
  if (used + 10 > pool.size()) {
    if (RAND_bytes(pool.data(), static_cast<int>(pool.size())) != 1) {
      throw std::runtime_error("OpenSSL RAND_bytes failed while making a job id");
    }
    used = 0;
  }
  const uint64_t ms = static_cast<uint64_t>(now_ms);
  for (int i = 0; i < 6; ++i) b[i] = static_cast<unsigned char>(ms >> (40 - 8 * i));
  std::copy_n(pool.begin() + static_cast<std::ptrdiff_t>(used), 10, b.begin() + 6);
  used += 10;
  b[6] = static_cast<unsigned char>(0x70 | (b[6] & 0x0F));  // version 7
  b[8] = static_cast<unsigned char>(0x80 | (b[8] & 0x3F));  // RFC 9562 variant
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHex[b[i] >> 4];
    out += kHex[b[i] & 0x0F];
  }
  return out;
}

std::string make_job_id() {
  return make_job_id(std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count());
}

}  // namespace webhook::store
