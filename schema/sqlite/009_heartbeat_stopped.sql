-- A process that exits cleanly says so in its heartbeat row (stopped_at, NULL while it runs;
-- its next heartbeat, a restart under the same name, clears it), so that the dispatcher fleet
-- counts it gone at once instead of after the liveness bound, and `webhookctl status` tells
-- a dispatcher that stopped from one that went silent (killed, frozen, cut off).
ALTER TABLE heartbeats ADD COLUMN stopped_at INTEGER;
