-- Each order key's head, kept up to date so that a claim reads only jobs it may take, as
-- schema/sqlite/006_order_heads.sql (which says why): `order_waits` marks an ordered job
-- that waits behind an earlier job of its key, the claim's index holds only pending jobs that
-- do not wait, and triggers move the marker in the transaction of every change to a job.
--
-- Several transactions may change the jobs of one key at once here, and each trigger reads
-- the key's other jobs: a dispatcher finishing a key's last job would not see a job a poller
-- is enqueueing behind it (still uncommitted), and that poller, seeing the last job
-- unfinished, would mark its new job waiting, with no head left to free it. So every trigger
-- first takes one transaction-scoped advisory lock, and reads only after it has it (in READ
-- COMMITTED each statement of a function reads a new snapshot, so the reads see whatever
-- committed before the lock was granted):
-- - shared for what dispatchers do (an outcome or a lease taken back makes a job delivered
--   or dead): dispatchers never wait for each other, and one key's head is finished by one
--   of them only (its lease token fences the others off). Since 008_outcomes_move_heads.sql
--   no trigger does this: the dispatcher's statement moves the heads itself, in a statement
--   after the one that took the lock, so that its snapshot is taken with the lock held.
--   A requeue ahead of a running job makes two jobs of a key run at once, the later one
--   waiting; when both end at the same moment neither dispatcher's snapshot sees the other's
--   outcome, so the one that ended a job out of turn frees the key's head again after its
--   commit, under the lock taken exclusive (common/store/postgres/postgres_lease_queue.cpp);
-- - exclusive for the rest (enqueueing, coalescing, an operator's requeue or cancel,
--   prune), which waits until the dispatchers' transactions in flight have committed.
-- One lock, not one per feed or key: a transaction takes it once, so no two can take two
-- in opposite orders (no deadlock), and the poll lock of a feed is always taken before it.
-- No transaction takes it shared and then exclusive. The claim takes no lock: a job that
-- starts or stops waiting is row-locked by the transaction that changes it, which the
-- claim's SKIP LOCKED passes over, and it sees the change only once it is committed.

ALTER TABLE jobs
  ADD COLUMN order_waits integer NOT NULL DEFAULT 0 CHECK (order_waits IN (0, 1));

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

-- The claim's index: pending jobs that may go (replaces 001's jobs_pending_due).
DROP INDEX jobs_pending_due;
CREATE INDEX jobs_claimable_due ON jobs (next_attempt_at, seq)
  WHERE state = 'pending' AND order_waits = 0;

-- The order lock described above.
CREATE FUNCTION webhook_order_lock(exclusive boolean) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF exclusive THEN
    PERFORM pg_advisory_xact_lock(hashtextextended('webhook order heads', 0));
  ELSE
    PERFORM pg_advisory_xact_lock_shared(hashtextextended('webhook order heads', 0));
  END IF;
END
$$;

-- The key's earliest unfinished job goes, unless a dead job under `block` holds it.
CREATE FUNCTION webhook_order_free_head(f text, k text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  UPDATE jobs AS h SET order_waits = 0
  WHERE h.seq = (SELECT u.seq FROM jobs AS u
                 WHERE u.feed = f AND u.order_key = k AND u.order_key IS NOT NULL
                   AND u.finished_at IS NULL
                 ORDER BY u.seq LIMIT 1)
    AND h.order_waits = 1
    AND (h.dead_blocks_key = 0
         OR NOT EXISTS (SELECT 1 FROM jobs AS e
                        WHERE e.feed = f AND e.order_key = k AND e.seq < h.seq
                          AND e.order_key IS NOT NULL AND e.dead_blocks_key = 1
                          AND e.state = 'dead'));
END
$$;

-- A new ordered job waits if an earlier job of its key holds the key. A BEFORE trigger sees
-- the rows its statement inserted before this one, so a commit's jobs of one key queue up.
CREATE FUNCTION jobs_order_enqueued() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM webhook_order_lock(true);
  NEW.order_waits := CASE
    WHEN EXISTS (SELECT 1 FROM jobs AS e
                 WHERE e.feed = NEW.feed AND e.order_key = NEW.order_key AND e.seq < NEW.seq
                   AND e.order_key IS NOT NULL AND e.finished_at IS NULL)
      OR (NEW.dead_blocks_key = 1
          AND EXISTS (SELECT 1 FROM jobs AS e
                      WHERE e.feed = NEW.feed AND e.order_key = NEW.order_key
                        AND e.seq < NEW.seq AND e.order_key IS NOT NULL
                        AND e.dead_blocks_key = 1 AND e.state = 'dead'))
    THEN 1 ELSE 0 END;
  RETURN NEW;
END
$$;
CREATE TRIGGER jobs_order_enqueued BEFORE INSERT ON jobs FOR EACH ROW
  WHEN (NEW.order_key IS NOT NULL AND NEW.finished_at IS NULL)
  EXECUTE FUNCTION jobs_order_enqueued();

-- Finished (a final state; since 008 not a running job delivered or dead, whose statement
-- moves the head itself), a dead job under `block` cancelled, or back from a final state
-- (requeue: it may be ahead of the key's head, even of a running one, so every unfinished
-- job of the key waits first, a walk of the key's backlog that only operators pay for).
-- After the statement, so a statement that changes several jobs of one key (coalescing,
-- requeueing a feed's dead jobs) has changed them all when the key's head is chosen.
CREATE FUNCTION jobs_order_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM webhook_order_lock(NOT (OLD.finished_at IS NULL AND NEW.state IN ('delivered', 'dead')));
  IF NEW.finished_at IS NULL THEN
    UPDATE jobs SET order_waits = 1
    WHERE feed = NEW.feed AND order_key = NEW.order_key AND order_key IS NOT NULL
      AND finished_at IS NULL AND order_waits = 0;
  END IF;
  PERFORM webhook_order_free_head(NEW.feed, NEW.order_key);
  RETURN NULL;
END
$$;
CREATE TRIGGER jobs_order_changed AFTER UPDATE OF finished_at ON jobs FOR EACH ROW
  WHEN (NEW.order_key IS NOT NULL
        AND ((OLD.finished_at IS NULL) <> (NEW.finished_at IS NULL)
             OR (NEW.finished_at IS NOT NULL AND OLD.state = 'dead'
                 AND OLD.dead_blocks_key = 1 AND NEW.state <> 'dead')))
  EXECUTE FUNCTION jobs_order_changed();

-- Pruning a dead job under `block` lets its key go on, as cancelling it would (and an
-- unfinished job deleted by hand no longer holds its key).
CREATE FUNCTION jobs_order_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM webhook_order_lock(true);
  PERFORM webhook_order_free_head(OLD.feed, OLD.order_key);
  RETURN NULL;
END
$$;
CREATE TRIGGER jobs_order_deleted AFTER DELETE ON jobs FOR EACH ROW
  WHEN (OLD.order_key IS NOT NULL
        AND (OLD.finished_at IS NULL OR (OLD.state = 'dead' AND OLD.dead_blocks_key = 1)))
  EXECUTE FUNCTION jobs_order_deleted();
