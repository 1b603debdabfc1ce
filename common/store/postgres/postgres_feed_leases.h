// The feed leases on PostgreSQL (schema/postgres/004_feed_leases.sql): a poller takes or
// renews its feed's lease, releases it, and the poll writer checks, inside its commit's
// transaction, that the epoch the commit was started under still holds (fencing). Every
// expiry is the server's clock (webhook_now_ms()), never a host's: hosts' clocks differ.
// Borrows the connection (which must outlive it). One thread at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/store/job_store.h"
#include "common/store/postgres/pg_connection.h"

namespace webhook::store {

class PostgresFeedLeases {
 public:
  explicit PostgresFeedLeases(PgConnection& connection) : connection_(connection) {}

  std::optional<int64_t> acquire(std::string_view feed, std::string_view holder,
                                 std::chrono::milliseconds duration);
  bool release(std::string_view feed, std::string_view holder, int64_t epoch);
  std::vector<FeedLease> list();

  // Inside the caller's transaction: throws LeaseLostError unless `epoch` is `feed`'s
  // current lease and it has not expired. With `lock`, the row stays share-locked until the
  // transaction ends, so a takeover waits for the commit instead of overtaking it: call it
  // so last, just before COMMIT, for that lock to be held for as short a time as possible.
  void check_held(const std::string& feed, int64_t epoch, bool lock);

 private:
  PgConnection& connection_;
};

}  // namespace webhook::store
