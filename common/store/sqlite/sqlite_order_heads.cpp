#include "common/store/sqlite/sqlite_order_heads.h"

namespace webhook::store {
namespace {

// The job that stops waiting: `(key)` is the subquery's join on the key's earliest unfinished
// job; it goes only if no earlier job of its key is dead under `block` when it was itself
// enqueued under `block`. The predicates spell those of jobs_order_open and
// jobs_order_blocking, so that SQLite seeks them.
#define WEBHOOK_FREE_HEAD(key)                                                                \
  "UPDATE jobs SET order_waits = 0 WHERE seq = (SELECT u.seq FROM " key                       \
  " AND u.order_key IS NOT NULL AND u.finished_at IS NULL ORDER BY u.seq LIMIT 1) AND "       \
  "order_waits = 1 AND (dead_blocks_key = 0 OR NOT EXISTS (SELECT 1 FROM jobs AS e WHERE "    \
  "e.feed = jobs.feed AND e.order_key = jobs.order_key AND e.seq < jobs.seq AND e.order_key " \
  "IS NOT NULL AND e.dead_blocks_key = 1 AND e.state = 'dead'))"

constexpr const char* kFreeHeadOfJobSql = WEBHOOK_FREE_HEAD(
    "jobs AS h JOIN jobs AS u ON u.feed = h.feed AND u.order_key = h.order_key WHERE h.seq = ?1 "
    "AND h.order_key IS NOT NULL");
constexpr const char* kFreeHeadOfKeySql =
    WEBHOOK_FREE_HEAD("jobs AS u WHERE u.feed = ?1 AND u.order_key = ?2");
#undef WEBHOOK_FREE_HEAD

constexpr const char* kWaitAllOfJobSql =
    "UPDATE jobs SET order_waits = 1 WHERE seq IN (SELECT u.seq FROM jobs AS h JOIN jobs AS u "
    "ON u.feed = h.feed AND u.order_key = h.order_key WHERE h.seq = ?1 AND h.order_key IS NOT "
    "NULL AND u.order_key IS NOT NULL AND u.finished_at IS NULL AND u.order_waits = 0)";

}  // namespace

SqliteOrderHeads::SqliteOrderHeads(SQLite::Database& db)
    : free_head_of_job_(db, kFreeHeadOfJobSql),
      free_head_of_key_(db, kFreeHeadOfKeySql),
      wait_all_of_job_(db, kWaitAllOfJobSql) {}

void SqliteOrderHeads::job_changed(int64_t seq) {
  free_head_of_job_.reset();
  free_head_of_job_.bind(1, seq);
  free_head_of_job_.exec();  // 0 or 1: the key's head may already go, or be held
}

void SqliteOrderHeads::key_changed(const std::string& feed, const std::string& key) {
  free_head_of_key_.reset();
  free_head_of_key_.bindNoCopy(1, feed);
  free_head_of_key_.bindNoCopy(2, key);
  free_head_of_key_.exec();
}

void SqliteOrderHeads::job_reopened(int64_t seq) {
  wait_all_of_job_.reset();
  wait_all_of_job_.bind(1, seq);
  wait_all_of_job_.exec();  // any number: the key's jobs that went or might have
  job_changed(seq);
}

}  // namespace webhook::store
