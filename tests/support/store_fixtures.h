// Helpers for tests of the job store and its users: ready-made polls and outcomes, and a
// store opened on a real file. Stateless; not thread-safe (tests are single-threaded).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/store/job_store.h"
#include "common/store/open_store.h"
#include "tests/support/temp_dir.h"

namespace webhook::testing {

// The drivers the conformance suites run on, once each (INSTANTIATE_TEST_SUITE_P with
// kAllDrivers and driver_name).
enum class Driver { kSqlite, kPostgres };
inline constexpr Driver kAllDrivers[] = {Driver::kSqlite, Driver::kPostgres};
std::string driver_name(const ::testing::TestParamInfo<Driver>& info);

// A fresh, empty database of one driver for one test: a file in a temporary folder, or a new
// database on this process's throwaway PostgreSQL cluster (PostgresCluster::shared()).
// open() opens another connection to it each time.
class TestDatabase {
 public:
  explicit TestDatabase(Driver driver);
  const store::StoreOptions& options() const { return options_; }
  std::unique_ptr<store::JobStore> open() const { return store::open_store(options_); }

 private:
  TempDir dir_;
  store::StoreOptions options_;
};

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
