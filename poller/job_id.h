// The content hash that recognises an item already enqueued in the poll overlap. (Job ids
// come from store::make_job_id, the one generator.) Thread-safe.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace webhook::poller {

// The item's content hash: the first 128 bits (32 hex digits) of SHA-256 over a compact,
// unambiguous encoding of the parsed item (types, lengths, key order kept), so the same
// record returned by two overlapping polls has the same hash however it was spaced.
// Encoding the tree directly instead of re-serialising it as JSON keeps a 10,000-item poll
// cheap. Throws std::runtime_error if OpenSSL fails.
std::string item_hash(const nlohmann::ordered_json& item);

}  // namespace webhook::poller
