// The feed leases on SQLite (schema/sqlite/004_feed_leases.sql): a poller takes or renews
// its feed's lease, releases it, and the poll and stream writers check, inside their own
// write transaction, that the epoch a commit was started under still holds (fencing).
// Every time is the caller's clock: all processes on one SQLite file share one host.
// Borrows the connection (which must outlive it) and keeps its statements prepared. One
// thread at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <SQLiteCpp/Statement.h>

#include "common/store/job_store.h"
#include "common/store/sqlite/sqlite_connection.h"

namespace webhook::store {

class SqliteFeedLeases {
 public:
  explicit SqliteFeedLeases(SqliteConnection& connection);

  std::optional<int64_t> acquire(std::string_view feed, std::string_view holder,
                                 std::chrono::milliseconds duration, int64_t now);
  bool release(std::string_view feed, std::string_view holder, int64_t epoch, int64_t now);
  std::vector<FeedLease> list();

  // Inside the caller's write transaction: throws LeaseLostError unless `epoch` is `feed`'s
  // current lease and it has not expired at `now`.
  void check_held(const std::string& feed, int64_t epoch, int64_t now);

 private:
  SqliteConnection& connection_;
  SQLite::Statement acquire_;
  SQLite::Statement release_;
  SQLite::Statement select_;
};

}  // namespace webhook::store
