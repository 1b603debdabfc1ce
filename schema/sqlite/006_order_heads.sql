-- Each order key's head, kept up to date so that a claim reads only jobs it may take
-- (issue 18). Until now the claim walked every due pending job and asked, for each ordered
-- one, whether an earlier job of its key still held the key: with a long backlog on few keys
-- it walked past thousands of waiting jobs on every claim. Now `order_waits` says that an
-- ordered job waits: it is not its key's earliest unfinished (pending or running) job, or it
-- is, but it was enqueued under WEBHOOK_ORDER_ON_DEAD=block and an earlier job of its key is
-- dead under `block`. The claim's index holds only pending jobs that do not wait, so the claim
-- is one index range again, as it is without an order key.
--
-- The marker moves in the transaction of whatever changes a job:
-- - a new ordered job waits if an earlier job of its key holds the key (a trigger below);
-- - when a job of a key reaches a final state (delivered, dead, cancelled, superseded), or a
--   dead job under `block` leaves `dead`, or is pruned, the key's earliest unfinished job stops
--   waiting unless a dead job under `block` holds it. A retry (back to pending) and a dead
--   job under `block` change nothing: the head keeps its place, the key stays held;
-- - a job back from a final state (requeue) may now be the earliest: every job of its key
--   waits, then the earliest goes, as above.
-- Enqueues and deletes are the triggers' work. State changes are the store's code's
-- (common/store/sqlite/sqlite_order_heads.cpp), right after the statement that made them:
-- an UPDATE trigger, even one whose WHEN is false, costs every outcome (ordered or not) a
-- trigger frame, about 20,000 instructions (callgrind), a third of an unordered outcome.
-- Unordered jobs never wait and the triggers do nothing for them (each WHEN says so).

ALTER TABLE jobs ADD COLUMN order_waits INTEGER NOT NULL DEFAULT 0
  CHECK (order_waits = 0 OR order_waits = 1);

-- The jobs already queued: those that the old claim's rule held back wait.
UPDATE jobs SET order_waits = 1
WHERE order_key IS NOT NULL AND finished_at IS NULL
  AND (EXISTS (SELECT 1 FROM jobs AS e
               WHERE e.feed = jobs.feed AND e.order_key = jobs.order_key AND e.seq < jobs.seq
                 AND e.order_key IS NOT NULL AND e.finished_at IS NULL)
       OR (dead_blocks_key = 1
           AND EXISTS (SELECT 1 FROM jobs AS e
                       WHERE e.feed = jobs.feed AND e.order_key = jobs.order_key
                         AND e.seq < jobs.seq AND e.order_key IS NOT NULL
                         AND e.dead_blocks_key = 1 AND e.state = 'dead')));

-- The claim's index: pending jobs that may go, by due time (replaces 001's jobs_pending_due,
-- which held every pending job). The claim spells this predicate exactly, so SQLite uses it.
DROP INDEX jobs_pending_due;
CREATE INDEX jobs_claimable_due ON jobs (next_attempt_at) WHERE state = 'pending' AND order_waits = 0;

CREATE TRIGGER jobs_order_enqueued AFTER INSERT ON jobs
WHEN NEW.order_key IS NOT NULL AND NEW.finished_at IS NULL
BEGIN
  UPDATE jobs SET order_waits = 1 - order_waits
  WHERE seq = NEW.seq
    AND order_waits <> (CASE WHEN EXISTS (SELECT 1 FROM jobs AS e
                                          WHERE e.feed = NEW.feed AND e.order_key = NEW.order_key
                                            AND e.seq < NEW.seq AND e.order_key IS NOT NULL
                                            AND e.finished_at IS NULL)
                               OR (NEW.dead_blocks_key = 1
                                   AND EXISTS (SELECT 1 FROM jobs AS e
                                               WHERE e.feed = NEW.feed
                                                 AND e.order_key = NEW.order_key
                                                 AND e.seq < NEW.seq AND e.order_key IS NOT NULL
                                                 AND e.dead_blocks_key = 1 AND e.state = 'dead'))
                             THEN 1 ELSE 0 END);
END;

-- Pruning a dead job under `block` lets its key go on, as cancelling it would (and an
-- unfinished job deleted by hand no longer holds its key).
CREATE TRIGGER jobs_order_deleted AFTER DELETE ON jobs
WHEN OLD.order_key IS NOT NULL
  AND (OLD.finished_at IS NULL OR (OLD.state = 'dead' AND OLD.dead_blocks_key = 1))
BEGIN
  UPDATE jobs SET order_waits = 0
  WHERE seq = (SELECT u.seq FROM jobs AS u
               WHERE u.feed = OLD.feed AND u.order_key = OLD.order_key
                 AND u.order_key IS NOT NULL AND u.finished_at IS NULL
               ORDER BY u.seq LIMIT 1)
    AND order_waits = 1
    AND (dead_blocks_key = 0
         OR NOT EXISTS (SELECT 1 FROM jobs AS e
                        WHERE e.feed = OLD.feed AND e.order_key = OLD.order_key
                          AND e.seq < jobs.seq AND e.order_key IS NOT NULL
                          AND e.dead_blocks_key = 1 AND e.state = 'dead'));
END;
