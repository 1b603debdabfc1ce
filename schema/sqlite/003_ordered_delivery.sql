-- Ordered delivery per entity (WEBHOOK_ORDER_KEY) and coalescing (WEBHOOK_COALESCE):
-- jobs get an order key and the final state `superseded`. SQLite cannot change a CHECK
-- constraint in place, so `jobs` is rebuilt with every row kept (seq included, which is the
-- enqueue order the ordering follows). `attempts` is rebuilt with it: the migration runs
-- with foreign keys on and inside one transaction (where PRAGMA foreign_keys cannot be
-- changed), and dropping the old `jobs` would cascade to every attempt still pointing at it.
-- The new `attempts` points at `jobs_new`, which the RENAME below rewrites to `jobs`. The
-- views read `jobs`, so they are dropped first and made again at the end, `job_history`
-- with the order key.

DROP VIEW job_history;
DROP VIEW attempt_log;
DROP VIEW queue_summary;

-- As in 001_init.sql, plus `order_key` (NULL: unordered) and `dead_blocks_key`
-- (WEBHOOK_ORDER_ON_DEAD=block when the job was enqueued: a dead job holds its key).
CREATE TABLE jobs_new (
  seq               INTEGER PRIMARY KEY,
  id                TEXT    NOT NULL CHECK (length(id) BETWEEN 1 AND 64),
  feed              TEXT    NOT NULL,
  poll_id           INTEGER,
  method            TEXT    NOT NULL,
  url               TEXT    NOT NULL,
  headers           TEXT    NOT NULL DEFAULT '{}',
  body              TEXT    NOT NULL DEFAULT '',
  state             TEXT    NOT NULL
                      CHECK (state = 'pending' OR state = 'running' OR state = 'delivered'
                             OR state = 'dead' OR state = 'cancelled' OR state = 'superseded'),
  attempts          INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  attempt_seq       INTEGER NOT NULL DEFAULT 0 CHECK (attempt_seq >= 0),
  max_attempts      INTEGER NOT NULL CHECK (max_attempts >= 1),
  next_attempt_at   INTEGER NOT NULL,
  lease_owner       TEXT,
  lease_token       INTEGER NOT NULL DEFAULT 0 CHECK (lease_token >= 0),
  lease_expires_at  INTEGER,
  created_at        INTEGER NOT NULL,
  updated_at        INTEGER NOT NULL,
  finished_at       INTEGER,
  last_status       INTEGER CHECK (last_status BETWEEN 100 AND 999),
  last_error        TEXT    NOT NULL DEFAULT '',
  order_key         TEXT,
  dead_blocks_key   INTEGER NOT NULL DEFAULT 0 CHECK (dead_blocks_key = 0 OR dead_blocks_key = 1),
  CHECK (attempts <= max_attempts),
  CHECK ((state = 'running') = (lease_owner IS NOT NULL AND lease_expires_at IS NOT NULL)),
  CHECK ((state = 'delivered' OR state = 'dead' OR state = 'cancelled' OR state = 'superseded')
         = (finished_at IS NOT NULL))
) STRICT;
INSERT INTO jobs_new (seq, id, feed, poll_id, method, url, headers, body, state, attempts,
                      attempt_seq, max_attempts, next_attempt_at, lease_owner, lease_token,
                      lease_expires_at, created_at, updated_at, finished_at, last_status,
                      last_error)
SELECT seq, id, feed, poll_id, method, url, headers, body, state, attempts, attempt_seq,
       max_attempts, next_attempt_at, lease_owner, lease_token, lease_expires_at, created_at,
       updated_at, finished_at, last_status, last_error
FROM jobs ORDER BY seq;

CREATE TABLE attempts_new (
  job_seq        INTEGER NOT NULL REFERENCES jobs_new (seq) ON DELETE CASCADE,
  number         INTEGER NOT NULL CHECK (number >= 1),
  started_at     INTEGER NOT NULL,
  duration_ms    INTEGER NOT NULL CHECK (duration_ms >= 0),
  http_status    INTEGER CHECK (http_status BETWEEN 100 AND 999),
  error          TEXT    NOT NULL DEFAULT '',
  response_head  TEXT    NOT NULL DEFAULT '',
  worker         TEXT    NOT NULL,
  PRIMARY KEY (job_seq, number)
) STRICT, WITHOUT ROWID;
INSERT INTO attempts_new (job_seq, number, started_at, duration_ms, http_status, error,
                          response_head, worker)
SELECT job_seq, number, started_at, duration_ms, http_status, error, response_head, worker
FROM attempts ORDER BY job_seq, number;

-- The child first: dropping it cascades nowhere; then nothing points at the old jobs.
DROP TABLE attempts;
DROP TABLE jobs;
ALTER TABLE jobs_new RENAME TO jobs;
ALTER TABLE attempts_new RENAME TO attempts;

-- The indexes of 001_init.sql (they went with the old table).
CREATE INDEX jobs_pending_due ON jobs (next_attempt_at) WHERE state = 'pending';
CREATE INDEX jobs_running_lease ON jobs (lease_expires_at) WHERE state = 'running';
-- The claim asks, for each due ordered job, whether an earlier job of its feed and key still
-- holds the key: one seek in jobs_order_open (unfinished: pending or running), and for a job
-- enqueued under WEBHOOK_ORDER_ON_DEAD=block one in jobs_order_blocking (dead under
-- `block`). Only ordered jobs are in them, so an unordered job costs them nothing; the open
-- one's predicate does not name `state`, so a claim (pending to running) or a retry leaves
-- it untouched and only the job's end removes its entry. The queries spell these predicates
-- exactly, so that SQLite uses the indexes.
CREATE INDEX jobs_order_open ON jobs (feed, order_key, seq)
  WHERE order_key IS NOT NULL AND finished_at IS NULL;
CREATE INDEX jobs_order_blocking ON jobs (feed, order_key, seq)
  WHERE order_key IS NOT NULL AND dead_blocks_key = 1 AND state = 'dead';

CREATE VIEW job_history AS
SELECT j.seq, j.id, j.feed, j.state, j.attempts, j.max_attempts, j.method, j.url,
       j.last_status, j.last_error, j.lease_owner, j.poll_id,
       strftime('%Y-%m-%dT%H:%M:%fZ', j.created_at / 1000.0, 'unixepoch') AS created,
       strftime('%Y-%m-%dT%H:%M:%fZ', j.updated_at / 1000.0, 'unixepoch') AS updated,
       strftime('%Y-%m-%dT%H:%M:%fZ', j.next_attempt_at / 1000.0, 'unixepoch') AS next_attempt,
       strftime('%Y-%m-%dT%H:%M:%fZ', j.lease_expires_at / 1000.0, 'unixepoch') AS lease_expires,
       strftime('%Y-%m-%dT%H:%M:%fZ', j.finished_at / 1000.0, 'unixepoch') AS finished,
       j.created_at, j.updated_at, j.next_attempt_at, j.lease_expires_at, j.finished_at,
       j.order_key
FROM jobs AS j;

CREATE VIEW attempt_log AS
SELECT a.job_seq, j.id AS job_id, j.feed, a.number,
       strftime('%Y-%m-%dT%H:%M:%fZ', a.started_at / 1000.0, 'unixepoch') AS started,
       a.duration_ms, a.http_status, a.error, a.response_head, a.worker, j.url, j.state AS job_state,
       a.started_at
FROM attempts AS a JOIN jobs AS j ON j.seq = a.job_seq;

CREATE VIEW queue_summary AS
SELECT feed, state, count(*) AS jobs,
       strftime('%Y-%m-%dT%H:%M:%fZ', min(created_at) / 1000.0, 'unixepoch') AS oldest_created,
       CAST(round((julianday('now') - 2440587.5) * 86400.0 - min(created_at) / 1000.0) AS INTEGER)
         AS oldest_age_s
FROM jobs
GROUP BY feed, state;

-- Keys held by a dead job (WEBHOOK_ORDER_ON_DEAD=block), with the job and how many wait.
CREATE VIEW blocked_keys AS
SELECT d.feed, d.order_key, d.seq AS blocking_seq, d.id AS blocking_id,
       strftime('%Y-%m-%dT%H:%M:%fZ', d.finished_at / 1000.0, 'unixepoch') AS dead_since,
       d.last_error,
       (SELECT count(*) FROM jobs AS w
        WHERE w.feed = d.feed AND w.order_key = d.order_key AND w.seq > d.seq
          AND w.order_key IS NOT NULL AND w.finished_at IS NULL
          AND w.state = 'pending') AS waiting
FROM jobs AS d
WHERE d.order_key IS NOT NULL AND d.state = 'dead' AND d.dead_blocks_key = 1
  AND NOT EXISTS (SELECT 1 FROM jobs AS e
                  WHERE e.feed = d.feed AND e.order_key = d.order_key AND e.seq < d.seq
                    AND e.order_key IS NOT NULL AND e.finished_at IS NULL)
  AND NOT EXISTS (SELECT 1 FROM jobs AS e
                  WHERE e.feed = d.feed AND e.order_key = d.order_key AND e.seq < d.seq
                    AND e.order_key IS NOT NULL AND e.dead_blocks_key = 1 AND e.state = 'dead');
