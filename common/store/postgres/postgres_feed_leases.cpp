#include "common/store/postgres/postgres_feed_leases.h"

namespace webhook::store {

std::optional<int64_t> PostgresFeedLeases::acquire(std::string_view feed, std::string_view holder,
                                                   std::chrono::milliseconds duration) {
  // One statement: of several pollers trying at once, the row lock of the upsert lets
  // exactly one find the lease free. SET sees the row as it was: a renewal keeps the epoch
  // and acquired_at, a new tenure takes the next epoch. No row when another holder's lease
  // stands. webhook_now_ms() is the statement's time on the server.
  PgResult r = connection_.exec_prepared(
      "taking the lease of feed " + std::string(feed), "acquire_feed_lease",
      "INSERT INTO feed_leases AS l (feed, holder, epoch, acquired_at, renewed_at, expires_at) "
      "VALUES ($1, $2, 1, webhook_now_ms(), webhook_now_ms(), webhook_now_ms() + $3) "
      "ON CONFLICT (feed) DO UPDATE SET "
      "epoch = CASE WHEN l.holder = excluded.holder AND l.expires_at > webhook_now_ms() "
      "THEN l.epoch ELSE l.epoch + 1 END, "
      "acquired_at = CASE WHEN l.holder = excluded.holder AND l.expires_at > webhook_now_ms() "
      "THEN l.acquired_at ELSE webhook_now_ms() END, "
      "holder = excluded.holder, renewed_at = webhook_now_ms(), "
      "expires_at = webhook_now_ms() + $3 "
      "WHERE l.holder = excluded.holder OR l.expires_at <= webhook_now_ms() "
      "RETURNING l.epoch",
      PgParams().add(feed).add(holder).add(static_cast<int64_t>(duration.count())));
  if (r.rows() == 0) return std::nullopt;
  return r.int64(0, 0);
}

bool PostgresFeedLeases::release(std::string_view feed, std::string_view holder, int64_t epoch) {
  PgResult r = connection_.exec(
      "releasing the lease of feed " + std::string(feed),
      "UPDATE feed_leases SET expires_at = webhook_now_ms() WHERE feed = $1 AND holder = $2 AND "
      "epoch = $3 AND expires_at > webhook_now_ms()",
      PgParams().add(feed).add(holder).add(epoch));
  return r.changed() == 1;
}

std::vector<FeedLease> PostgresFeedLeases::list() {
  PgResult r = connection_.exec("listing the feed leases",
                                "SELECT feed, holder, epoch, acquired_at, renewed_at, expires_at "
                                "FROM feed_leases ORDER BY feed");
  std::vector<FeedLease> leases;
  for (int i = 0; i < r.rows(); ++i) {
    leases.push_back(
        {r.text(i, 0), r.text(i, 1), r.int64(i, 2), r.int64(i, 3), r.int64(i, 4), r.int64(i, 5)});
  }
  return leases;
}

void PostgresFeedLeases::check_held(const std::string& feed, int64_t epoch, bool lock) {
  PgResult r = connection_.exec(
      "checking the lease of feed " + feed,
      std::string("SELECT epoch, expires_at > webhook_now_ms(), holder FROM feed_leases WHERE "
                  "feed = $1") +
          (lock ? " FOR SHARE" : ""),
      PgParams().add(feed));
  if (r.rows() == 0) {
    throw LeaseLostError("feed " + feed + " has no lease: the commit under epoch " +
                         std::to_string(epoch) + " is dropped");
  }
  const int64_t current = r.int64(0, 0);
  if (current != epoch) {
    throw LeaseLostError("the lease of feed " + feed + " moved from epoch " +
                         std::to_string(epoch) + " to " + std::to_string(current) + " (" +
                         r.text(0, 2) + "): the commit is dropped");
  }
  if (r.text(0, 1) != "t") {
    throw LeaseLostError("the lease of feed " + feed + " at epoch " + std::to_string(epoch) +
                         " expired: the commit is dropped");
  }
}

}  // namespace webhook::store
