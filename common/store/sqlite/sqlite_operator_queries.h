// The operator's side of the SQLite store (webhookctl): status per feed, job and poll
// listings, one job with its attempts, the console's per-minute attempt counts and
// heartbeats, and the repairs (requeue, cancel, prune). These run
// rarely, so their statements are prepared per call. Borrows the connection, which must
// outlive it. One thread at a time.
#pragma once

#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/store/job_store.h"
#include "common/store/sqlite/sqlite_connection.h"

namespace webhook::store {

class SqliteOperatorQueries {
 public:
  explicit SqliteOperatorQueries(SqliteConnection& connection) : connection_(connection) {}

  std::vector<FeedStatus> status();
  std::vector<JobRow> list_jobs(const JobFilter& filter);
  std::optional<JobDetail> job(std::string_view id);
  std::vector<PollRow> list_polls(std::optional<std::string> feed, int limit);
  std::vector<StreamConnectionRow> list_stream_connections(std::optional<std::string> feed,
                                                           int limit);
  std::map<std::string, std::string> stream_cursors();
  std::vector<AttemptMinute> attempts_per_minute(int64_t since);
  std::vector<HeartbeatRow> heartbeats();
  int requeue(std::span<const std::string> job_ids, int64_t now);
  int requeue_dead(std::optional<std::string> feed, int64_t now);
  int cancel(std::span<const std::string> job_ids, int64_t now);
  std::vector<BlockedKey> blocked_keys(std::optional<std::string> feed, int limit);
  PruneResult prune(int64_t before, int batch);

 private:
  std::vector<int64_t> update_jobs(const std::string& set, const std::string& from_states,
                                   std::span<const std::string> job_ids, int64_t now);
  SqliteConnection& connection_;
};

}  // namespace webhook::store
