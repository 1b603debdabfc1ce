#include "common/store/sqlite/sqlite_order_heads.h"

#include <tuple>
#include <vector>

namespace webhook::store {
namespace {

// The job updated (`jobs`) goes only if no earlier job of its key is dead under `block` when
// it was itself enqueued under `block` (a seek in jobs_order_blocking).
#define WEBHOOK_NOT_HELD                                                                  \
  " AND order_waits = 1 AND (dead_blocks_key = 0 OR NOT EXISTS (SELECT 1 FROM jobs AS e " \
  "WHERE e.feed = jobs.feed AND e.order_key = jobs.order_key AND e.seq < jobs.seq AND "   \
  "e.order_key IS NOT NULL AND e.dead_blocks_key = 1 AND e.state = 'dead'))"

// The latest job of key (?1, ?2) that finished in its turn: none before it is unfinished
// (007_order_successors.sql). Walks back from the newest over the unfinished jobs and those
// that finished out of turn.
#define WEBHOOK_LAST_IN_TURN                                                              \
  "coalesce((SELECT f.seq FROM jobs AS f WHERE f.feed = ?1 AND f.order_key = ?2 AND "     \
  "f.order_key IS NOT NULL AND f.finished_at IS NOT NULL AND f.order_waits = 0 ORDER BY " \
  "f.seq DESC LIMIT 1), 0)"

// A job of the list `h` that finished in its turn was its key's head: its successor is the
// key's next head if it is still unfinished, else the first unfinished job after it. A job
// still unfinished (a retry), unordered, or that finished out of its turn frees nothing.
constexpr const char* kFreeSuccessorsSql =
    "UPDATE jobs SET order_waits = 0 WHERE finished_at IS NULL AND seq IN (SELECT CASE WHEN "
    "n.seq IS NOT NULL AND n.finished_at IS NULL THEN n.seq ELSE (SELECT u.seq FROM jobs AS u "
    "WHERE u.feed = h.feed AND u.order_key = h.order_key AND u.order_key IS NOT NULL AND "
    "u.seq > h.seq AND u.finished_at IS NULL ORDER BY u.seq LIMIT 1) END FROM json_each(?1) AS "
    "b JOIN jobs AS h ON h.seq = b.value LEFT JOIN jobs AS n ON n.seq = h.order_next WHERE "
    "h.order_key IS NOT NULL AND h.finished_at IS NOT NULL AND h.order_waits = 0 AND "
    "h.order_next IS NOT NULL)" WEBHOOK_NOT_HELD;

// The key's earliest unfinished job: the first after the latest one finished in its turn.
constexpr const char* kFreeHeadOfKeySql =
    "UPDATE jobs SET order_waits = 0 WHERE seq = (SELECT u.seq FROM jobs AS u WHERE u.feed = "
    "?1 AND u.order_key = ?2 AND u.order_key IS NOT NULL AND u.finished_at IS NULL AND u.seq > "
    "" WEBHOOK_LAST_IN_TURN " ORDER BY u.seq LIMIT 1)" WEBHOOK_NOT_HELD;

// Coalescing: the key's pending jobs never tried, all after the latest job finished in its
// turn (jobs_order_key from there on, not the key's whole history). ?3 is `now`.
constexpr const char* kSupersedeUntriedSql =
    "UPDATE jobs SET state = 'superseded', finished_at = ?3, updated_at = ?3 WHERE feed = ?1 "
    "AND order_key = ?2 AND order_key IS NOT NULL AND finished_at IS NULL AND state = "
    "'pending' AND attempt_seq = 0 AND seq > " WEBHOOK_LAST_IN_TURN;

constexpr const char* kKeyOfJobSql =
    "SELECT feed, order_key FROM jobs WHERE seq = ?1 AND order_key IS NOT NULL";

constexpr const char* kEarliestReopenedSql =
    "SELECT feed, order_key, min(seq) FROM jobs WHERE seq IN (SELECT value FROM json_each(?1)) "
    "AND order_key IS NOT NULL GROUP BY feed, order_key";

// From the key's earliest requeued job ?3 on: the unfinished jobs wait, the finished ones
// did not finish in their turn (an earlier job is unfinished again).
constexpr const char* kWaitFromSql =
    "UPDATE jobs SET order_waits = 1 WHERE feed = ?1 AND order_key = ?2 AND order_key IS NOT "
    "NULL AND seq >= ?3 AND order_waits = 0";

// Each unfinished job of the key points to the next one.
constexpr const char* kRelinkSql =
    "UPDATE jobs SET order_next = (SELECT n.seq FROM jobs AS n WHERE n.feed = ?1 AND "
    "n.order_key = ?2 AND n.order_key IS NOT NULL AND n.seq > jobs.seq AND n.finished_at IS "
    "NULL ORDER BY n.seq LIMIT 1) WHERE feed = ?1 AND order_key = ?2 AND order_key IS NOT NULL "
    "AND finished_at IS NULL AND seq > " WEBHOOK_LAST_IN_TURN;

#undef WEBHOOK_NOT_HELD
#undef WEBHOOK_LAST_IN_TURN

// [1,2,3]: the list json_each reads.
std::string json_list(std::span<const int64_t> seqs) {
  std::string list = "[";
  for (int64_t seq : seqs) {
    if (list.size() > 1) list += ',';
    list += std::to_string(seq);
  }
  return list + "]";
}

}  // namespace

SqliteOrderHeads::SqliteOrderHeads(SQLite::Database& db)
    : free_successors_(db, kFreeSuccessorsSql),
      free_head_of_key_(db, kFreeHeadOfKeySql),
      supersede_untried_(db, kSupersedeUntriedSql),
      key_of_job_(db, kKeyOfJobSql),
      earliest_reopened_(db, kEarliestReopenedSql),
      wait_from_(db, kWaitFromSql),
      relink_(db, kRelinkSql) {}

void SqliteOrderHeads::heads_finished(std::span<const int64_t> seqs) {
  if (seqs.empty()) return;
  free_successors_.reset();
  free_successors_.bind(1, json_list(seqs));
  free_successors_.exec();  // any number: the successors that may go now
}

void SqliteOrderHeads::key_changed(const std::string& feed, const std::string& key) {
  free_head_of_key_.reset();
  free_head_of_key_.bindNoCopy(1, feed);
  free_head_of_key_.bindNoCopy(2, key);
  free_head_of_key_.exec();  // 0 or 1: the key's head may already go, or be held
}

void SqliteOrderHeads::supersede_untried(const std::string& feed, const std::string& key,
                                         int64_t now) {
  supersede_untried_.reset();
  supersede_untried_.bindNoCopy(1, feed);
  supersede_untried_.bindNoCopy(2, key);
  supersede_untried_.bind(3, now);
  supersede_untried_.exec();  // any number: the key's untried pending jobs, often none
  key_changed(feed, key);     // its head may have been one of them
}

void SqliteOrderHeads::job_changed(int64_t seq) {
  std::string feed, key;
  key_of_job_.reset();
  key_of_job_.bind(1, seq);
  if (!key_of_job_.executeStep()) return;  // unordered
  feed = key_of_job_.getColumn(0).getString();
  key = key_of_job_.getColumn(1).getString();
  key_of_job_.reset();
  key_changed(feed, key);
}

void SqliteOrderHeads::jobs_reopened(std::span<const int64_t> seqs) {
  if (seqs.empty()) return;
  std::vector<std::tuple<std::string, std::string, int64_t>> keys;
  earliest_reopened_.reset();
  earliest_reopened_.bind(1, json_list(seqs));
  while (earliest_reopened_.executeStep()) {
    keys.emplace_back(earliest_reopened_.getColumn(0).getString(),
                      earliest_reopened_.getColumn(1).getString(),
                      earliest_reopened_.getColumn(2).getInt64());
  }
  earliest_reopened_.reset();
  for (const auto& [feed, key, from] : keys) {
    wait_from_.reset();
    wait_from_.bindNoCopy(1, feed);
    wait_from_.bindNoCopy(2, key);
    wait_from_.bind(3, from);
    wait_from_.exec();
    relink_.reset();
    relink_.bindNoCopy(1, feed);
    relink_.bindNoCopy(2, key);
    relink_.exec();
    key_changed(feed, key);
  }
}

}  // namespace webhook::store
