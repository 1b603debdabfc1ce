#include "common/store/sqlite/sqlite_feed_leases.h"

#include "common/store/sqlite/sqlite_rows.h"

namespace webhook::store {

SqliteFeedLeases::SqliteFeedLeases(SqliteConnection& connection)
    : connection_(connection),
      // One statement, so that of several pollers trying at once (serialised by the write
      // lock) exactly one finds the row free. SET sees the row as it was: a renewal keeps
      // the epoch and acquired_at, a new tenure (another holder, or this one after its
      // lease ran out) takes the next epoch. No row comes back when another holder's
      // lease stands.
      acquire_(connection.db(),
               "INSERT INTO feed_leases (feed, holder, epoch, acquired_at, renewed_at, "
               "expires_at) VALUES (?1, ?2, 1, ?3, ?3, ?3 + ?4) "
               "ON CONFLICT (feed) DO UPDATE SET "
               "epoch = CASE WHEN holder = excluded.holder AND expires_at > ?3 THEN epoch "
               "ELSE epoch + 1 END, "
               "acquired_at = CASE WHEN holder = excluded.holder AND expires_at > ?3 "
               "THEN acquired_at ELSE ?3 END, "
               "holder = excluded.holder, renewed_at = ?3, expires_at = ?3 + ?4 "
               "WHERE holder = excluded.holder OR expires_at <= ?3 "
               "RETURNING epoch"),
      release_(connection.db(),
               "UPDATE feed_leases SET expires_at = min(expires_at, ?4) "
               "WHERE feed = ?1 AND holder = ?2 AND epoch = ?3 AND expires_at > ?4"),
      select_(connection.db(), "SELECT epoch, expires_at, holder FROM feed_leases WHERE feed = ?") {
}

std::optional<int64_t> SqliteFeedLeases::acquire(std::string_view feed, std::string_view holder,
                                                 std::chrono::milliseconds duration, int64_t now) {
  std::optional<int64_t> epoch;
  connection_.write("taking the lease of feed " + std::string(feed), [&] {
    epoch.reset();
    StatementScope s(acquire_);
    s->bind(1, std::string(feed));
    s->bind(2, std::string(holder));
    s->bind(3, now);
    s->bind(4, static_cast<int64_t>(duration.count()));
    if (s->executeStep()) epoch = s->getColumn(0).getInt64();
  });
  return epoch;
}

bool SqliteFeedLeases::release(std::string_view feed, std::string_view holder, int64_t epoch,
                               int64_t now) {
  bool released = false;
  connection_.write("releasing the lease of feed " + std::string(feed), [&] {
    StatementScope s(release_);
    s->bind(1, std::string(feed));
    s->bind(2, std::string(holder));
    s->bind(3, epoch);
    s->bind(4, now);
    released = s->exec() == 1;
  });
  return released;
}

std::vector<FeedLease> SqliteFeedLeases::list() {
  SQLite::Statement s(connection_.db(),
                      "SELECT feed, holder, epoch, acquired_at, renewed_at, expires_at "
                      "FROM feed_leases ORDER BY feed");
  std::vector<FeedLease> leases;
  while (s.executeStep()) {
    leases.push_back({s.getColumn(0).getString(), s.getColumn(1).getString(),
                      s.getColumn(2).getInt64(), s.getColumn(3).getInt64(),
                      s.getColumn(4).getInt64(), s.getColumn(5).getInt64()});
  }
  return leases;
}

void SqliteFeedLeases::check_held(const std::string& feed, int64_t epoch, int64_t now) {
  StatementScope s(select_);
  s->bind(1, feed);
  if (!s->executeStep()) {
    throw LeaseLostError("feed " + feed + " has no lease: the commit under epoch " +
                         std::to_string(epoch) + " is dropped");
  }
  const int64_t current = s->getColumn(0).getInt64();
  const int64_t expires_at = s->getColumn(1).getInt64();
  if (current != epoch) {
    throw LeaseLostError("the lease of feed " + feed + " moved from epoch " +
                         std::to_string(epoch) + " to " + std::to_string(current) + " (" +
                         s->getColumn(2).getString() + "): the commit is dropped");
  }
  if (expires_at <= now) {
    throw LeaseLostError("the lease of feed " + feed + " at epoch " + std::to_string(epoch) +
                         " expired: the commit is dropped");
  }
}

}  // namespace webhook::store
