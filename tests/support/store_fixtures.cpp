#include "tests/support/store_fixtures.h"

#include "common/store/open_store.h"
#include "tests/support/postgres_cluster.h"

#include <stdexcept>

namespace webhook::testing {

std::string driver_name(const ::testing::TestParamInfo<Driver>& info) {
  return info.param == Driver::kSqlite ? "Sqlite" : "Postgres";
}

TestDatabase::TestDatabase(Driver driver) {
  if (driver == Driver::kPostgres) {
    options_.url = PostgresCluster::shared().fresh_database();
  } else {
    options_.path = dir_.file("q.db");
    options_.durability = "NORMAL";
  }
}

std::unique_ptr<store::JobStore> open_test_store(const std::string& path) {
  store::StoreOptions options;
  options.path = path;
  options.durability = "NORMAL";
  return store::open_store(options);
}

store::PollCommit make_poll(const std::string& feed, int jobs, int64_t now,
                            std::optional<int64_t> expected_cursor) {
  store::PollCommit commit;
  commit.poll.feed = feed;
  commit.poll.started_at = now;
  commit.poll.finished_at = now;
  commit.poll.window_from = expected_cursor.value_or(now) - 5000;
  commit.poll.window_to = now;
  commit.poll.items_found = jobs;
  commit.poll.jobs_enqueued = jobs;
  for (int i = 0; i < jobs; ++i) {
    store::NewJob job;
    job.id = store::make_job_id(now);
    job.url = "http://sink/" + feed + "/" + std::to_string(i);
    job.headers = {{"X-Item", std::to_string(i)}};
    commit.jobs.push_back(job);
    commit.seen_hashes.push_back(feed + "-hash-" + job.id);
  }
  commit.new_cursor = now;
  commit.expected_cursor = expected_cursor;
  return commit;
}

std::vector<std::string> enqueue(store::JobStore& store, const std::string& feed, int jobs,
                                 int64_t now) {
  store::PollCommit commit = make_poll(feed, jobs, now, store.cursor(feed));
  if (!store.commit_poll(commit)) throw std::runtime_error("commit_poll refused in a test");
  std::vector<std::string> ids;
  for (const auto& job : commit.jobs) ids.push_back(job.id);
  return ids;
}

store::Outcome outcome_for(const store::ClaimedJob& job, const std::string& worker,
                           store::OutcomeKind kind, int64_t now, std::optional<int> status,
                           int64_t next_attempt_at) {
  store::Outcome o;
  o.job_id = job.id;
  o.lease_token = job.lease_token;
  o.attempt_number = job.attempt_number;
  o.worker = worker;
  o.kind = kind;
  o.next_attempt_at = next_attempt_at;
  o.started_at = now;
  o.duration_ms = 12;
  o.http_status = status;
  if (kind != store::OutcomeKind::kDelivered) o.error = "HTTP 500";
  o.response_head = "response of " + job.id;
  return o;
}

}  // namespace webhook::testing
