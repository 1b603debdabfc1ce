#include "common/store/job_store.h"

#include <array>
#include <random>

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
  }
  return "unknown";
}

std::optional<JobState> parse_job_state(std::string_view text) {
  for (JobState s : {JobState::kPending, JobState::kRunning, JobState::kDelivered, JobState::kDead,
                     JobState::kCancelled}) {
    if (to_string(s) == text) return s;
  }
  return std::nullopt;
}

std::string make_job_id(int64_t now_ms) {
  thread_local std::mt19937_64 random(std::random_device{}() ^
                                      (static_cast<uint64_t>(std::random_device{}()) << 32));
  std::array<unsigned char, 16> b{};
  uint64_t ms = static_cast<uint64_t>(now_ms);
  for (int i = 0; i < 6; ++i) b[i] = static_cast<unsigned char>(ms >> (40 - 8 * i));
  uint64_t r1 = random();
  uint64_t r2 = random();
  for (int i = 6; i < 16; ++i) {
    b[i] = static_cast<unsigned char>((i < 11 ? r1 : r2) >> (8 * (i % 5)));
  }
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

}  // namespace webhook::store
