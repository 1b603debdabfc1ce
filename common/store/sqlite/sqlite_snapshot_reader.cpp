#include "common/store/sqlite/sqlite_snapshot_reader.h"

#include <SQLiteCpp/Statement.h>

#include <stdexcept>
#include <string>

#include "common/store/sqlite/sqlite_rows.h"

namespace webhook::store {

SqliteSnapshotReader::SqliteSnapshotReader(SqliteConnection& connection, int batch)
    : connection_(connection),
      snapshot_(connection.db(), SQLite::TransactionBehavior::DEFERRED),
      batch_(batch) {
  if (batch < 1) throw std::invalid_argument("snapshot batch must be at least 1");
}

bool SqliteSnapshotReader::next(StoreSnapshot& batch) {
  batch = StoreSnapshot{};
  // A phase that finds no more rows hands over to the next one in the same call, so a
  // batch is empty only at the end.
  while (phase_ != Phase::kDone) {
    bool more = false;
    switch (phase_) {
      case Phase::kSmallTables:
        read_small_tables(batch);
        break;
      case Phase::kPolls:
        more = read_polls(batch);
        break;
      case Phase::kSeen:
        more = read_seen(batch);
        break;
      case Phase::kJobs:
        more = read_jobs(batch);
        break;
      case Phase::kAttempts:
        more = read_attempts(batch);
        break;
      case Phase::kDone:
        break;
    }
    if (!more) {
      phase_ = static_cast<Phase>(static_cast<int>(phase_) + 1);
      after_ = 0;
      after_number_ = 0;
    }
    if (!batch.empty()) return true;
  }
  return false;
}

void SqliteSnapshotReader::read_small_tables(StoreSnapshot& batch) {
  // One row per feed and per process: small enough to read whole.
  SQLite::Statement cursors(connection_.db(),
                            "SELECT feed, last_poll_time FROM cursors ORDER BY feed");
  while (cursors.executeStep()) {
    batch.cursors.emplace_back(cursors.getColumn(0).getString(), cursors.getColumn(1).getInt64());
  }
  SQLite::Statement beats(connection_.db(),
                          "SELECT process, worker, at FROM heartbeats ORDER BY process, worker");
  while (beats.executeStep()) {
    batch.heartbeats.push_back({beats.getColumn(0).getString(), beats.getColumn(1).getString(),
                                beats.getColumn(2).getInt64()});
  }
}

bool SqliteSnapshotReader::read_polls(StoreSnapshot& batch) {
  SQLite::Statement s(connection_.db(),
                      "SELECT id, feed, started_at, finished_at, window_from, window_to, "
                      "items_found, jobs_enqueued, duplicates_skipped, render_errors, status, "
                      "error FROM polls WHERE id > ? ORDER BY id LIMIT ?");
  s.bind(1, after_);
  s.bind(2, batch_);
  while (s.executeStep()) {
    PollRow row;
    row.id = s.getColumn(0).getInt64();
    PollRecord& p = row.record;
    p.feed = s.getColumn(1).getString();
    p.started_at = s.getColumn(2).getInt64();
    p.finished_at = s.getColumn(3).getInt64();
    p.window_from = s.getColumn(4).getInt64();
    p.window_to = s.getColumn(5).getInt64();
    p.items_found = s.getColumn(6).getInt64();
    p.jobs_enqueued = s.getColumn(7).getInt64();
    p.duplicates_skipped = s.getColumn(8).getInt64();
    p.render_errors = s.getColumn(9).getInt64();
    p.ok = s.getColumn(10).getString() == "ok";
    p.error = s.getColumn(11).getString();
    after_ = row.id;
    batch.polls.push_back(std::move(row));
  }
  return static_cast<int>(batch.polls.size()) == batch_;
}

bool SqliteSnapshotReader::read_seen(StoreSnapshot& batch) {
  SQLite::Statement s(connection_.db(),
                      "SELECT id, feed, seen_at, hashes FROM seen_items WHERE id > ? ORDER BY id "
                      "LIMIT ?");
  s.bind(1, after_);
  s.bind(2, batch_);
  while (s.executeStep()) {
    SnapshotSeen row{s.getColumn(0).getInt64(), s.getColumn(1).getString(),
                     s.getColumn(2).getInt64(), s.getColumn(3).getString()};
    after_ = row.id;
    batch.seen.push_back(std::move(row));
  }
  return static_cast<int>(batch.seen.size()) == batch_;
}

bool SqliteSnapshotReader::read_jobs(StoreSnapshot& batch) {
  SQLite::Statement s(connection_.db(), "SELECT " + std::string(kJobColumns) +
                                            ", attempt_seq, lease_token FROM jobs WHERE seq > ? "
                                            "ORDER BY seq LIMIT ?");
  s.bind(1, after_);
  s.bind(2, batch_);
  const int extra = 19;  // the columns of kJobColumns
  while (s.executeStep()) {
    SnapshotJob job;
    job.row = read_job_row(s);
    job.attempt_seq = s.getColumn(extra).getInt64();
    job.lease_token = s.getColumn(extra + 1).getInt64();
    after_ = job.row.seq;
    batch.jobs.push_back(std::move(job));
  }
  return static_cast<int>(batch.jobs.size()) == batch_;
}

bool SqliteSnapshotReader::read_attempts(StoreSnapshot& batch) {
  SQLite::Statement s(connection_.db(),
                      "SELECT " + std::string(kAttemptColumns) +
                          ", job_seq FROM attempts WHERE (job_seq, number) > (?, ?) "
                          "ORDER BY job_seq, number LIMIT ?");
  s.bind(1, after_);
  s.bind(2, after_number_);
  s.bind(3, batch_);
  while (s.executeStep()) {
    SnapshotAttempt attempt;
    attempt.row = read_attempt_row(s);
    attempt.job_seq = s.getColumn(7).getInt64();
    after_ = attempt.job_seq;
    after_number_ = attempt.row.number;
    batch.attempts.push_back(std::move(attempt));
  }
  return static_cast<int>(batch.attempts.size()) == batch_;
}

}  // namespace webhook::store
