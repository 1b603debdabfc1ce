// The poller's side of the SQLite store: the cursor per feed, the seen-item hashes of the
// overlap, and commit_poll, which writes a whole poll in one transaction; plus the
// operator's rewind of a cursor. Borrows the connection (which must outlive it) and keeps
// its statements prepared. One thread at a time.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include <SQLiteCpp/Statement.h>

#include "common/store/job_store.h"
#include "common/store/sqlite/sqlite_connection.h"
#include "common/store/sqlite/sqlite_feed_leases.h"
#include "common/store/sqlite/sqlite_order_heads.h"

namespace webhook::store {

class SqlitePollWriter {
 public:
  // Borrows both (they must outlive it); `leases` fences commits made under a feed lease.
  SqlitePollWriter(SqliteConnection& connection, SqliteFeedLeases& leases);

  std::optional<int64_t> cursor(std::string_view feed);
  std::unordered_set<std::string> seen_since(std::string_view feed, int64_t since);
  // Jobs are created at commit.poll.finished_at and due at once (dead ones finished then).
  std::optional<int64_t> commit_poll(const PollCommit& commit);
  void rewind(std::string_view feed, int64_t to);

  // Inserts jobs created (and due) at `now`, inside the caller's write transaction; a
  // stream feed's jobs have no poll. Shared with SqliteStreamWriter. With
  // `ordering.coalesce`, earlier untried pending jobs of their keys become superseded.
  void insert_jobs(std::span<const NewJob> jobs, const std::string& feed,
                   std::optional<int64_t> poll_id, int64_t now, const JobOrdering& ordering);
  // Refuses a batch that repeats a job id (the schema does not index ids).
  static void check_unique_ids(std::span<const NewJob> jobs, const std::string& what);

  static constexpr int kJobColumnCount = 16;         // parameters per row of an insert
  static constexpr std::size_t kJobsPerInsert = 64;  // rows per multi-row insert

 private:
  std::optional<int64_t> read_cursor(std::string_view feed);
  // Binds one job's kJobColumnCount values from parameter `first` on; `headers_text` keeps
  // the headers' JSON alive until the statement has run.
  // `superseded`: stored so (coalesced away by a later job of the same commit).
  static void bind_job(SQLite::Statement& statement, int first, const NewJob& job,
                       const std::string& feed, std::optional<int64_t> poll_id, int64_t now,
                       bool dead_blocks_key, bool superseded, std::string& headers_text);
  // WEBHOOK_COALESCE: the feed's pending, never tried jobs of each key become superseded.
  void supersede(const std::string& feed, const std::vector<std::string>& keys, int64_t now);
  void set_cursor(std::string_view feed, int64_t value);

  SqliteConnection& connection_;
  SqliteFeedLeases& leases_;
  SQLite::Statement select_cursor_;
  SQLite::Statement upsert_cursor_;
  SQLite::Statement select_seen_;
  SQLite::Statement insert_seen_;
  SQLite::Statement forget_seen_;
  SQLite::Statement insert_poll_;
  SQLite::Statement insert_job_;   // one row
  SQLite::Statement insert_jobs_;  // kJobsPerInsert rows
  SqliteOrderHeads order_heads_;   // coalescing may end a key's head
};

}  // namespace webhook::store
