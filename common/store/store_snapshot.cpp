#include "common/store/store_snapshot.h"

#include "common/store/postgres/postgres_snapshot_import.h"
#include "common/store/sqlite/sqlite_snapshot_reader.h"

namespace webhook::store {
namespace {

constexpr SnapshotTable kTables[] = {
    {"cursors", "feed, last_poll_time", "feed", nullptr},
    {"heartbeats", "process, worker, at, stopped_at", "process, worker", nullptr},
    {"polls",
     "id, feed, started_at, finished_at, window_from, window_to, items_found, jobs_enqueued, "
     "duplicates_skipped, render_errors, status, error, filtered",
     "id", "id"},
    {"stream_cursors", "feed, last_event_id, updated_at", "feed", nullptr},
    {"stream_connections",
     "id, feed, started_at, ended_at, from_id, last_id, http_status, events, heartbeats, "
     "jobs_enqueued, filtered, render_errors, end_reason",
     "id", "id"},
    {"seen_items", "id, feed, seen_at, hashes", "id", "id"},
    {"jobs",
     "seq, id, feed, poll_id, method, url, headers, body, state, attempts, attempt_seq, "
     "max_attempts, next_attempt_at, lease_owner, lease_token, lease_expires_at, created_at, "
     "updated_at, finished_at, last_status, last_error, order_key, dead_blocks_key, order_waits, "
     "order_next",
     "seq", "seq"},
    {"attempts",
     "job_seq, number, started_at, duration_ms, http_status, error, response_head, worker",
     "job_seq, number", nullptr},
};

constexpr ExcludedTable kExcluded[] = {
    // Live state of the running pollers, not queue data: a lease copied from the file would
    // name a poller of the old store and make the new store's pollers wait for its expiry.
    // The pollers of the new store take their leases afresh (epochs fence within one store).
    {"feed_leases", "live poller leases; the new store's pollers take their own"},
};

}  // namespace

std::span<const SnapshotTable> snapshot_tables() { return kTables; }
std::span<const ExcludedTable> snapshot_excluded_tables() { return kExcluded; }

CopyReport copy_store(const StoreOptions& from, const StoreOptions& to, int batch) {
  if (is_server_store(from)) {
    throw std::invalid_argument("the source must be a SQLite file, not " + describe_store(from));
  }
  if (!is_server_store(to)) {
    throw std::invalid_argument("the target must be a PostgreSQL store, not " + describe_store(to));
  }
  check_store_options(to);
  SqliteOptions source;
  source.path = from.path;
  source.create_if_missing = false;  // a typo must not copy an empty queue
  SqliteSnapshotReader reader(source, batch);
  return import_postgres_snapshot(to.url, reader);
}

}  // namespace webhook::store
