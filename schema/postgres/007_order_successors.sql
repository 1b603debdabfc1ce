-- Each ordered job's successor, as schema/sqlite/007_order_successors.sql (which says why):
-- `order_next` is the seq of the job of its key that was enqueued while it was the key's
-- latest unfinished job (NULL: none was). SQLite follows it when a head finishes; here the
-- column means the same and is kept the same way (the copy from a SQLite file brings it), but
-- a head's successor is still found by jobs_order_open, which this store keeps.
ALTER TABLE jobs ADD COLUMN order_next bigint;

UPDATE jobs SET order_next = (SELECT n.seq FROM jobs AS n
                              WHERE n.feed = jobs.feed AND n.order_key = jobs.order_key
                                AND n.order_key IS NOT NULL AND n.finished_at IS NULL
                                AND n.seq > jobs.seq
                              ORDER BY n.seq LIMIT 1)
WHERE order_key IS NOT NULL AND finished_at IS NULL;

-- 006's enqueue trigger, which now also makes the new job its key's latest unfinished job's
-- successor (under the order lock it already takes).
CREATE OR REPLACE FUNCTION jobs_order_enqueued() RETURNS trigger LANGUAGE plpgsql AS $$
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
  UPDATE jobs SET order_next = NEW.seq
  WHERE seq = (SELECT e.seq FROM jobs AS e
               WHERE e.feed = NEW.feed AND e.order_key = NEW.order_key AND e.seq < NEW.seq
                 AND e.order_key IS NOT NULL AND e.finished_at IS NULL
               ORDER BY e.seq DESC LIMIT 1);
  RETURN NEW;
END
$$;
