-- Feed leases: one poller per feed is active, the others stand by (README "Standby
-- pollers"). The active one holds its feed's row and renews it well before expires_at; a
-- standby takes the row once it expired. `epoch` grows at every change of tenure (another
-- holder, or the same one after its lease ran out) and never goes back: a commit_poll or
-- commit_stream carries the epoch it was started under and writes nothing unless it is
-- still the feed's current, unexpired one. Rows are never deleted (a release only ends
-- the lease at once), so an epoch is never handed out twice. Times are epoch milliseconds
-- of the callers' clock (on SQLite every process shares one host).
CREATE TABLE feed_leases (
  feed         TEXT    NOT NULL PRIMARY KEY,
  holder       TEXT    NOT NULL CHECK (length(holder) BETWEEN 1 AND 300),  -- host:pid
  epoch        INTEGER NOT NULL CHECK (epoch >= 1),
  acquired_at  INTEGER NOT NULL,
  renewed_at   INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL
) STRICT;
