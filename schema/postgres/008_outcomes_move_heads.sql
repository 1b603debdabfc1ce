-- Dispatchers move their keys' heads themselves (PostgreSQL only; SQLite's store code already
-- does, see schema/sqlite/006_order_heads.sql). Until now jobs_order_changed (006) fired for
-- every ordered job a dispatcher finished: per row a plpgsql call, the order lock again and
-- webhook_order_free_head, another call and an UPDATE with subqueries. With 10,000 keys that
-- made the statement recording 100 outcomes about four times as slow as without a key (8 to
-- 10 ms against 2 to 2.6 ms, bench/order_bench's statements replayed with pgbench; 5 to 6 ms
-- after this migration).
-- Now the statements that finish running jobs (an outcome delivered or dead, a lease taken
-- back as dead: common/store/postgres/postgres_lease_queue.cpp) free each key's next job in
-- a CTE of their own, one set-based UPDATE for the whole batch, under the order lock taken
-- shared before the statement as before; so the trigger no longer fires for a job leaving
-- `running` for `delivered` or `dead`, and only those statements make that change. (A job
-- that ends out of turn, one that ran while an earlier job of its key was requeued, moves no
-- head in that statement: the store frees its key's head after the commit, in a transaction
-- of its own under the lock taken exclusive, with webhook_order_free_head of 006.)
-- Everything else (cancel, requeue, supersede, prune, a job deleted by hand) still moves
-- heads through the triggers of 006, under the lock taken exclusive.

DROP TRIGGER jobs_order_changed ON jobs;
CREATE TRIGGER jobs_order_changed AFTER UPDATE OF finished_at ON jobs FOR EACH ROW
  WHEN (NEW.order_key IS NOT NULL
        AND NOT (OLD.state = 'running' AND NEW.state IN ('delivered', 'dead'))
        AND ((OLD.finished_at IS NULL) <> (NEW.finished_at IS NULL)
             OR (NEW.finished_at IS NOT NULL AND OLD.state = 'dead'
                 AND OLD.dead_blocks_key = 1 AND NEW.state <> 'dead')))
  EXECUTE FUNCTION jobs_order_changed();

-- With those transitions gone from the trigger, every change it still sees is one that takes
-- the order lock exclusive (006's function chose shared for the dispatchers' ones).
CREATE OR REPLACE FUNCTION jobs_order_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM webhook_order_lock(true);
  IF NEW.finished_at IS NULL THEN
    UPDATE jobs SET order_waits = 1
    WHERE feed = NEW.feed AND order_key = NEW.order_key AND order_key IS NOT NULL
      AND finished_at IS NULL AND order_waits = 0;
  END IF;
  PERFORM webhook_order_free_head(NEW.feed, NEW.order_key);
  RETURN NULL;
END
$$;
