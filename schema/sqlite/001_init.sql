-- The job store: cursors, the poll log, the jobs, every delivery attempt, the item hashes
-- of the poll overlap and the processes' heartbeats. Times are integer epoch milliseconds;
-- the views at the end show them as readable UTC times for people using sqlite3.

-- Where each feed's next poll starts.
CREATE TABLE cursors (
  feed            TEXT    NOT NULL PRIMARY KEY,
  last_poll_time  INTEGER NOT NULL CHECK (last_poll_time >= 0)
) STRICT;

-- One row per poll, successful or not.
CREATE TABLE polls (
  id                  INTEGER PRIMARY KEY,
  feed                TEXT    NOT NULL,
  started_at          INTEGER NOT NULL,
  finished_at         INTEGER NOT NULL,
  window_from         INTEGER NOT NULL,
  window_to           INTEGER NOT NULL,
  items_found         INTEGER NOT NULL DEFAULT 0 CHECK (items_found >= 0),
  jobs_enqueued       INTEGER NOT NULL DEFAULT 0 CHECK (jobs_enqueued >= 0),
  duplicates_skipped  INTEGER NOT NULL DEFAULT 0 CHECK (duplicates_skipped >= 0),
  render_errors       INTEGER NOT NULL DEFAULT 0 CHECK (render_errors >= 0),
  status              TEXT    NOT NULL CHECK (status = 'ok' OR status = 'failed'),
  error               TEXT    NOT NULL DEFAULT '',
  CHECK (finished_at >= started_at),
  CHECK (window_to >= window_from)
) STRICT;
CREATE INDEX polls_by_feed ON polls (feed, id);
CREATE INDEX polls_by_finished ON polls (finished_at);

-- (CHECKs spell lists out with OR: SQLite builds a temporary table for each `IN (...)` list
-- every time a row is checked, which tripled the cost of an insert.)

-- One row per webhook request. `seq` orders jobs by arrival, keeps the table's B-tree
-- append-only and is how the store finds a job; `id` (a UUIDv7 made by the poller) is the
-- idempotency key sent to receivers. `id` has no index on purpose: it would cost every
-- enqueue a second B-tree insert, and only operators look jobs up by it (a scan).
-- `poll_id` has no foreign key on purpose: old polls are pruned on their own while their
-- jobs may still wait. `lease_token` is (seq << 20) + a per-job claim counter: unique per
-- claim, and an outcome is recorded only under the current token (fencing), so a dispatcher
-- whose lease was taken back cannot overwrite a later result.
CREATE TABLE jobs (
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
                             OR state = 'dead' OR state = 'cancelled'),
  attempts          INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  -- the number of the job's last row in attempts: unlike `attempts`, never reset by a
  -- requeue, so the next attempt's number needs no look into attempts
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
  CHECK (attempts <= max_attempts),
  -- a running job, and only a running job, has a lease
  CHECK ((state = 'running') = (lease_owner IS NOT NULL AND lease_expires_at IS NOT NULL)),
  -- a finished job, and only a finished job, has a finish time
  CHECK ((state = 'delivered' OR state = 'dead' OR state = 'cancelled') = (finished_at IS NOT NULL))
) STRICT;
-- The claim reads only this index: pending jobs by due time, never the delivered history.
CREATE INDEX jobs_pending_due ON jobs (next_attempt_at) WHERE state = 'pending';
-- The lease rescuer reads only running jobs.
CREATE INDEX jobs_running_lease ON jobs (lease_expires_at) WHERE state = 'running';
-- Deliberately no other index on jobs: every index costs each state change a B-tree update,
-- and the hot path (enqueue, claim, record) needs only these. Pruning walks jobs in seq
-- order (the oldest come first); operator counts scan the table.

-- One row per HTTP attempt, including attempts interrupted by a lost lease. Keyed by the
-- job's seq (clustered, no rowid) so that an attempt costs one B-tree insert.
CREATE TABLE attempts (
  job_seq        INTEGER NOT NULL REFERENCES jobs (seq) ON DELETE CASCADE,
  number         INTEGER NOT NULL CHECK (number >= 1),
  started_at     INTEGER NOT NULL,
  duration_ms    INTEGER NOT NULL CHECK (duration_ms >= 0),
  http_status    INTEGER CHECK (http_status BETWEEN 100 AND 999),
  error          TEXT    NOT NULL DEFAULT '',
  response_head  TEXT    NOT NULL DEFAULT '',
  worker         TEXT    NOT NULL,
  PRIMARY KEY (job_seq, number)
) STRICT, WITHOUT ROWID;

-- Hashes of the items each poll turned into jobs, for the poll overlap: one row per poll,
-- the hashes one per line. (One B-tree entry per item made these hashes the largest cost of
-- a large poll's commit; one row per poll is a single sequential write.) The poller forgets
-- rows older than the overlap, so the table stays small.
CREATE TABLE seen_items (
  id       INTEGER PRIMARY KEY,
  feed     TEXT    NOT NULL,
  seen_at  INTEGER NOT NULL,
  hashes   TEXT    NOT NULL
) STRICT;
CREATE INDEX seen_items_by_feed ON seen_items (feed, seen_at);

-- The last sign of life of each process, for health checks.
CREATE TABLE heartbeats (
  process  TEXT    NOT NULL CHECK (process = 'poller' OR process = 'dispatcher'),
  worker   TEXT    NOT NULL,
  at       INTEGER NOT NULL,
  PRIMARY KEY (process, worker)
) STRICT, WITHOUT ROWID;

-- Views for people. utc(ms) is spelled out: strftime('%Y-%m-%dT%H:%M:%fZ', ms/1000.0, 'unixepoch').
CREATE VIEW job_history AS
SELECT j.seq, j.id, j.feed, j.state, j.attempts, j.max_attempts, j.method, j.url,
       j.last_status, j.last_error, j.lease_owner, j.poll_id,
       strftime('%Y-%m-%dT%H:%M:%fZ', j.created_at / 1000.0, 'unixepoch') AS created,
       strftime('%Y-%m-%dT%H:%M:%fZ', j.updated_at / 1000.0, 'unixepoch') AS updated,
       strftime('%Y-%m-%dT%H:%M:%fZ', j.next_attempt_at / 1000.0, 'unixepoch') AS next_attempt,
       strftime('%Y-%m-%dT%H:%M:%fZ', j.lease_expires_at / 1000.0, 'unixepoch') AS lease_expires,
       strftime('%Y-%m-%dT%H:%M:%fZ', j.finished_at / 1000.0, 'unixepoch') AS finished,
       j.created_at, j.updated_at, j.next_attempt_at, j.lease_expires_at, j.finished_at
FROM jobs AS j;

CREATE VIEW attempt_log AS
SELECT a.job_seq, j.id AS job_id, j.feed, a.number,
       strftime('%Y-%m-%dT%H:%M:%fZ', a.started_at / 1000.0, 'unixepoch') AS started,
       a.duration_ms, a.http_status, a.error, a.response_head, a.worker, j.url, j.state AS job_state,
       a.started_at
FROM attempts AS a JOIN jobs AS j ON j.seq = a.job_seq;

CREATE VIEW poll_log AS
SELECT p.id, p.feed, p.status,
       strftime('%Y-%m-%dT%H:%M:%fZ', p.started_at / 1000.0, 'unixepoch') AS started,
       p.finished_at - p.started_at AS duration_ms,
       strftime('%Y-%m-%dT%H:%M:%fZ', p.window_from / 1000.0, 'unixepoch') AS window_from,
       strftime('%Y-%m-%dT%H:%M:%fZ', p.window_to / 1000.0, 'unixepoch') AS window_to,
       p.items_found, p.jobs_enqueued, p.duplicates_skipped, p.render_errors, p.error,
       p.started_at
FROM polls AS p;

-- Count and oldest age per state per feed; ages in seconds from now.
CREATE VIEW queue_summary AS
SELECT feed, state, count(*) AS jobs,
       strftime('%Y-%m-%dT%H:%M:%fZ', min(created_at) / 1000.0, 'unixepoch') AS oldest_created,
       CAST(round((julianday('now') - 2440587.5) * 86400.0 - min(created_at) / 1000.0) AS INTEGER)
         AS oldest_age_s
FROM jobs
GROUP BY feed, state;
