// The JSON shape of webhookctl's queue data, shared by `webhookctl … --json` and the console's
// /api/… answers so that a script written against one reads the other. Times are objects
// {"ms": epoch ms, "utc": ISO-8601} or null. Pure functions; thread-safe.
#pragma once

#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/store/job_store.h"

namespace webhook::ctl {

nlohmann::ordered_json time_json(std::optional<int64_t> ms);
nlohmann::ordered_json poll_json(const store::PollRow& poll);
nlohmann::ordered_json job_json(const store::JobRow& job);
// One row of `webhookctl blocked --json`.
nlohmann::ordered_json blocked_key_json(const store::BlockedKey& key);
nlohmann::ordered_json attempt_json(const store::AttemptRow& attempt);
// job_json plus "attempt_log": `webhookctl show --json`.
nlohmann::ordered_json job_detail_json(const store::JobDetail& detail);
// One feed of `webhookctl status --json`.
nlohmann::ordered_json feed_status_json(const store::FeedStatus& feed);
// One feed lease of `webhookctl status --json` ("feed_leases"); `live`: unexpired at now.
nlohmann::ordered_json feed_lease_json(const store::FeedLease& lease, int64_t now_ms);

}  // namespace webhook::ctl
