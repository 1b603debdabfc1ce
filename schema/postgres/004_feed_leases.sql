-- Feed leases, as schema/sqlite/004_feed_leases.sql: one active poller per feed, the others
-- standing by; `epoch` fences the commits of a holder that lost its lease. On PostgreSQL the
-- times are the server's clock (webhook_now_ms), never a host's: the hosts' clocks differ,
-- and a lease must expire at the same moment for all of them.
CREATE FUNCTION webhook_now_ms() RETURNS bigint LANGUAGE sql STABLE AS
$$ SELECT floor(extract(epoch FROM statement_timestamp()) * 1000)::bigint $$;

CREATE TABLE feed_leases (
  feed         text   NOT NULL PRIMARY KEY,
  holder       text   NOT NULL CHECK (length(holder) BETWEEN 1 AND 300),
  epoch        bigint NOT NULL CHECK (epoch >= 1),
  acquired_at  bigint NOT NULL,
  renewed_at   bigint NOT NULL,
  expires_at   bigint NOT NULL
);
