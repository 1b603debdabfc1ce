-- An order key's next head found by its seq, and no index to keep up to date when a job
-- finishes (issue 18). Until now a dispatcher's outcome of an ordered job paid two seeks by
-- text key: taking the job out of jobs_order_open (the key's unfinished jobs), then looking
-- in it for the key's next head, a third of what an unordered claim -> record cycle costs
-- (callgrind, bench/order_bench.cpp). Now:
--
-- - `order_next` is a job's successor: the seq of the job of its key that was enqueued while
--   it was the key's latest unfinished job (NULL: none was). When a head finishes, the job at
--   `order_next` is the key's next head if it is unfinished; if it finished meanwhile
--   (cancelled, superseded) or was deleted, the head move walks the key's jobs after the
--   finished head instead. A requeue, which puts a job back among the unfinished ones, sets
--   the pointers of its key's unfinished jobs again (common/store/sqlite/sqlite_order_heads.cpp).
-- - jobs_order_key replaces jobs_order_open: it holds every ordered job, finished or not, and
--   none of its columns ever changes, so an outcome does not touch it.
-- - Without an index of the unfinished jobs, a question about them ("does an earlier job of
--   the key hold it?") walks the key's jobs back from the newest; `order_waits` of a finished
--   job says where that walk may stop. A finished job with order_waits = 0 finished in its
--   turn: every earlier job of its key was finished then, and still is (a requeue of an
--   earlier job sets order_waits = 1 on every later job of its key, finished or not). A job
--   that finished while it waited (cancelled, superseded), or was enqueued finished while an
--   earlier job of its key was unfinished, keeps or gets order_waits = 1. So walking back from
--   the newest job, past the finished jobs with order_waits = 1, the first job found is either
--   unfinished (the key's latest unfinished job) or finished in turn (none earlier is
--   unfinished): one or two rows for a key without a backlog, however long its history.
-- Unordered jobs are in neither index and no trigger does anything for them (each WHEN says
-- so), as before. The claim's index (jobs_claimable_due) and order_waits of unfinished jobs
-- keep their meaning (006_order_heads.sql).

ALTER TABLE jobs ADD COLUMN order_next INTEGER;

-- The jobs already queued, while jobs_order_open still answers: each unfinished ordered job
-- points to the next unfinished job of its key, and a finished job that has an earlier
-- unfinished job of its key did not finish in its turn.
UPDATE jobs SET order_next = (SELECT n.seq FROM jobs AS n
                              WHERE n.feed = jobs.feed AND n.order_key = jobs.order_key
                                AND n.order_key IS NOT NULL AND n.finished_at IS NULL
                                AND n.seq > jobs.seq
                              ORDER BY n.seq LIMIT 1)
WHERE order_key IS NOT NULL AND finished_at IS NULL;
UPDATE jobs SET order_waits = CASE WHEN EXISTS (SELECT 1 FROM jobs AS e
                                                WHERE e.feed = jobs.feed
                                                  AND e.order_key = jobs.order_key
                                                  AND e.order_key IS NOT NULL
                                                  AND e.finished_at IS NULL
                                                  AND e.seq < jobs.seq)
                                   THEN 1 ELSE 0 END
WHERE order_key IS NOT NULL AND finished_at IS NOT NULL;

DROP TRIGGER jobs_order_enqueued;
DROP TRIGGER jobs_order_deleted;
DROP VIEW blocked_keys;
DROP INDEX jobs_order_open;
CREATE INDEX jobs_order_key ON jobs (feed, order_key, seq) WHERE order_key IS NOT NULL;

-- A new ordered job waits if the key's latest earlier unfinished job exists (found by the walk
-- above) or, enqueued under `block`, if an earlier job of its key is dead under `block`; one
-- enqueued finished (its key or URL did not render, or coalesced in its own commit) is marked
-- as not finished in its turn when an earlier job is unfinished. An unfinished new job is
-- that latest unfinished job's successor.
CREATE TRIGGER jobs_order_enqueued AFTER INSERT ON jobs
WHEN NEW.order_key IS NOT NULL
BEGIN
  UPDATE jobs SET order_waits = 1 - order_waits
  WHERE seq = NEW.seq
    AND order_waits <> (CASE WHEN coalesce((SELECT p.finished_at IS NULL FROM jobs AS p
                                            WHERE p.feed = NEW.feed
                                              AND p.order_key = NEW.order_key
                                              AND p.order_key IS NOT NULL AND p.seq < NEW.seq
                                              AND (p.finished_at IS NULL OR p.order_waits = 0)
                                            ORDER BY p.seq DESC LIMIT 1), 0)
                               OR (NEW.finished_at IS NULL AND NEW.dead_blocks_key = 1
                                   AND EXISTS (SELECT 1 FROM jobs AS e
                                               WHERE e.feed = NEW.feed
                                                 AND e.order_key = NEW.order_key
                                                 AND e.seq < NEW.seq AND e.order_key IS NOT NULL
                                                 AND e.dead_blocks_key = 1 AND e.state = 'dead'))
                             THEN 1 ELSE 0 END);
  UPDATE jobs SET order_next = NEW.seq
  WHERE NEW.finished_at IS NULL
    AND seq = (SELECT p.seq FROM jobs AS p
               WHERE p.feed = NEW.feed AND p.order_key = NEW.order_key
                 AND p.order_key IS NOT NULL AND p.seq < NEW.seq
                 AND (p.finished_at IS NULL OR p.order_waits = 0)
               ORDER BY p.seq DESC LIMIT 1)
    AND finished_at IS NULL;
END;

-- Pruning a dead job under `block` lets its key go on, as cancelling it would (and an
-- unfinished job deleted by hand no longer holds its key): the key's earliest unfinished job,
-- the first after the latest job finished in its turn, goes unless a dead job under `block`
-- holds it.
CREATE TRIGGER jobs_order_deleted AFTER DELETE ON jobs
WHEN OLD.order_key IS NOT NULL
  AND (OLD.finished_at IS NULL OR (OLD.state = 'dead' AND OLD.dead_blocks_key = 1))
BEGIN
  UPDATE jobs SET order_waits = 0
  WHERE seq = (SELECT u.seq FROM jobs AS u
               WHERE u.feed = OLD.feed AND u.order_key = OLD.order_key
                 AND u.order_key IS NOT NULL AND u.finished_at IS NULL
                 AND u.seq > coalesce((SELECT f.seq FROM jobs AS f
                                       WHERE f.feed = OLD.feed AND f.order_key = OLD.order_key
                                         AND f.order_key IS NOT NULL
                                         AND f.finished_at IS NOT NULL AND f.order_waits = 0
                                       ORDER BY f.seq DESC LIMIT 1), 0)
               ORDER BY u.seq LIMIT 1)
    AND order_waits = 1
    AND (dead_blocks_key = 0
         OR NOT EXISTS (SELECT 1 FROM jobs AS e
                        WHERE e.feed = OLD.feed AND e.order_key = OLD.order_key
                          AND e.seq < jobs.seq AND e.order_key IS NOT NULL
                          AND e.dead_blocks_key = 1 AND e.state = 'dead'));
END;

-- As in 003_ordered_delivery.sql; a dead job that died in its turn has no earlier unfinished
-- job (the walk of the key's history is left for the rare one that did not).
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
  AND (d.order_waits = 0
       OR NOT EXISTS (SELECT 1 FROM jobs AS e
                      WHERE e.feed = d.feed AND e.order_key = d.order_key AND e.seq < d.seq
                        AND e.order_key IS NOT NULL AND e.finished_at IS NULL))
  AND NOT EXISTS (SELECT 1 FROM jobs AS e
                  WHERE e.feed = d.feed AND e.order_key = d.order_key AND e.seq < d.seq
                    AND e.order_key IS NOT NULL AND e.dead_blocks_key = 1 AND e.state = 'dead');
