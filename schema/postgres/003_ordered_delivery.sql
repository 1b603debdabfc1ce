-- Ordered delivery per entity (WEBHOOK_ORDER_KEY) and coalescing (WEBHOOK_COALESCE), as
-- schema/sqlite/003_ordered_delivery.sql: jobs get an order key, the flag that a dead job
-- holds its key, and the final state `superseded`. PostgreSQL changes the table in place.

ALTER TABLE jobs
  ADD COLUMN order_key text,
  ADD COLUMN dead_blocks_key integer NOT NULL DEFAULT 0 CHECK (dead_blocks_key IN (0, 1));

-- 001_init.sql left the two CHECKs that list the states unnamed; find them by what they say.
DO $$
DECLARE
  c record;
BEGIN
  FOR c IN SELECT conname FROM pg_constraint
           WHERE conrelid = 'jobs'::regclass AND contype = 'c'
             AND pg_get_constraintdef(oid) LIKE '%cancelled%' LOOP
    EXECUTE format('ALTER TABLE jobs DROP CONSTRAINT %I', c.conname);
  END LOOP;
END
$$;
ALTER TABLE jobs
  ADD CONSTRAINT jobs_state_check
    CHECK (state IN ('pending', 'running', 'delivered', 'dead', 'cancelled', 'superseded')),
  ADD CONSTRAINT jobs_finished_check
    CHECK ((state IN ('delivered', 'dead', 'cancelled', 'superseded')) = (finished_at IS NOT NULL));

-- The claim's test whether an earlier job of the feed and key still holds the key: one seek
-- per index, as on SQLite (unfinished jobs; dead ones under `block`).
CREATE INDEX jobs_order_open ON jobs (feed, order_key, seq)
  WHERE order_key IS NOT NULL AND finished_at IS NULL;
CREATE INDEX jobs_order_blocking ON jobs (feed, order_key, seq)
  WHERE order_key IS NOT NULL AND dead_blocks_key = 1 AND state = 'dead';

CREATE OR REPLACE VIEW job_history AS
SELECT j.seq, j.id, j.feed, j.state, j.attempts, j.max_attempts, j.method, j.url,
       j.last_status, j.last_error, j.lease_owner, j.poll_id,
       webhook_utc(j.created_at) AS created,
       webhook_utc(j.updated_at) AS updated,
       webhook_utc(j.next_attempt_at) AS next_attempt,
       webhook_utc(j.lease_expires_at) AS lease_expires,
       webhook_utc(j.finished_at) AS finished,
       j.created_at, j.updated_at, j.next_attempt_at, j.lease_expires_at, j.finished_at,
       j.order_key
FROM jobs AS j;

CREATE VIEW blocked_keys AS
SELECT d.feed, d.order_key, d.seq AS blocking_seq, d.id AS blocking_id,
       webhook_utc(d.finished_at) AS dead_since,
       d.last_error,
       (SELECT count(*) FROM jobs AS w
        WHERE w.feed = d.feed AND w.order_key = d.order_key AND w.seq > d.seq
          AND w.state = 'pending') AS waiting
FROM jobs AS d
WHERE d.order_key IS NOT NULL AND d.state = 'dead' AND d.dead_blocks_key = 1
  AND NOT EXISTS (SELECT 1 FROM jobs AS e
                  WHERE e.feed = d.feed AND e.order_key = d.order_key AND e.seq < d.seq
                    AND e.order_key IS NOT NULL AND e.finished_at IS NULL)
  AND NOT EXISTS (SELECT 1 FROM jobs AS e
                  WHERE e.feed = d.feed AND e.order_key = d.order_key AND e.seq < d.seq
                    AND e.order_key IS NOT NULL AND e.dead_blocks_key = 1 AND e.state = 'dead');
