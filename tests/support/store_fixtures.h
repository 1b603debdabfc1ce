// Helpers for tests of the job store and its users: ready-made polls and outcomes, and a
// store opened on a real file. Stateless; not thread-safe (tests are single-threaded).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/store/job_store.h"

namespace webhook::testing {

// A store on `path` (created and migrated), synchronous=NORMAL to keep tests quick.
std::unique_ptr<store::JobStore> open_test_store(const std::string& path);

// A successful poll of `feed` at `now` with `jobs` pending jobs (urls http://sink/<feed>/<i>),
// one seen hash per job, moving the cursor from `expected_cursor` to `now`.
store::PollCommit make_poll(const std::string& feed, int jobs, int64_t now,
                            std::optional<int64_t> expected_cursor = std::nullopt);

// Commits make_poll(...) and returns the new jobs' ids in order. Fails the test if refused.
std::vector<std::string> enqueue(store::JobStore& store, const std::string& feed, int jobs,
                                 int64_t now);

// The outcome of a claimed job.
store::Outcome outcome_for(const store::ClaimedJob& job, const std::string& worker,
                           store::OutcomeKind kind, int64_t now, std::optional<int> status = 200,
                           int64_t next_attempt_at = 0);

}  // namespace webhook::testing
