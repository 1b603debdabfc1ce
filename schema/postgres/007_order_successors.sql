-- The column of schema/sqlite/007_order_successors.sql, so that both stores have the same
-- tables and columns (a copy from a SQLite file brings it). `order_next` is SQLite's pointer
-- from a job to the job of its key enqueued after it, which lets a finished head's successor
-- go without a search by key. This store does not keep it (NULL for the jobs it enqueues):
-- here a head's successor is one seek in jobs_order_open, which this store keeps, and keeping
-- the pointer would write a second row version on every ordered enqueue for nothing.
ALTER TABLE jobs ADD COLUMN order_next bigint;
