// The operator's side of the PostgreSQL store (webhookctl, the console): status per feed,
// listing and reading jobs, polls and attempts, requeue, cancel and prune. Figures that
// must agree are read in one REPEATABLE READ snapshot. Borrows the connection (which must
// outlive it). One thread at a time.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/store/job_store.h"
#include "common/store/postgres/pg_connection.h"

namespace webhook::store {

class PostgresOperatorQueries {
 public:
  explicit PostgresOperatorQueries(PgConnection& connection) : connection_(connection) {}

  std::vector<FeedStatus> status();
  std::vector<JobRow> list_jobs(const JobFilter& filter);
  std::optional<JobDetail> job(std::string_view id);
  std::vector<PollRow> list_polls(std::optional<std::string> feed, int limit);
  std::vector<AttemptMinute> attempts_per_minute(int64_t since);
  std::vector<HeartbeatRow> heartbeats();
  int requeue(std::span<const std::string> job_ids, int64_t now);
  int requeue_dead(std::optional<std::string> feed, int64_t now);
  int cancel(std::span<const std::string> job_ids, int64_t now);
  std::vector<BlockedKey> blocked_keys(std::optional<std::string> feed, int limit);
  PruneResult prune(int64_t before, int batch);
  std::vector<StreamConnectionRow> list_stream_connections(std::optional<std::string> feed,
                                                           int limit);
  std::map<std::string, std::string> stream_cursors();

 private:
  int update_jobs(std::string_view what, const std::string& set, const std::string& from_states,
                  std::span<const std::string> job_ids, int64_t now);
  PgConnection& connection_;
};

}  // namespace webhook::store
