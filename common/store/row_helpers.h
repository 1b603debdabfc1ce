// Helpers every store driver shares: the checks on rows changed, the cut of a response head
// and the parsing of a headers column, so both drivers store and read exactly the same
// values. Stateless; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace webhook::store {

// The largest response head stored per attempt.
inline constexpr std::size_t kMaxResponseHead = 4096;

// The error recorded for an attempt whose lease ran out.
inline constexpr std::string_view kLeaseExpiredError = "interrupted: lease expired";

// A lease token is (seq << kLeaseSeqShift) | claim counter of that job.
inline constexpr int kLeaseSeqShift = 20;
inline constexpr int64_t kLeaseCounterMask = (int64_t{1} << kLeaseSeqShift) - 1;

// `text` cut to at most `max_bytes`, never inside a UTF-8 sequence.
std::string truncate_utf8(std::string_view text, std::size_t max_bytes);

// Throws std::runtime_error when a state change did not touch exactly `expected` rows: the
// data is not what the store believes, and continuing would hide it.
void expect_changes(int changed, int expected, std::string_view what);

// Parses a headers column; a malformed value (edited by hand) gives an empty object.
nlohmann::ordered_json parse_headers(const std::string& text);

// The longest stream id a stream feed's cursor holds (stream_cursors.last_event_id's CHECK).
inline constexpr std::size_t kMaxStreamIdBytes = 64;

// Throws std::invalid_argument ("<what>: a <noun> of 1-64 bytes") unless `id` is 1 to
// kMaxStreamIdBytes bytes long, before the database's CHECK refuses it less clearly.
void check_stream_id(std::string_view id, std::string_view what, std::string_view noun);

// True when `id` names a job by its seq number (all digits) rather than its UUID.
bool is_seq_number(std::string_view id);

}  // namespace webhook::store
