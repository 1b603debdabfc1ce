-- Stream feeds (OpenCTI live streams): their cursor, which is a stream id ("<ms>-<seq>")
-- rather than a time, and the history of their connections, as polls are the history of
-- polling feeds. Polls gain the count of items WEBHOOK_FILTER kept out.

-- The last stream id a stream feed handled: every event up to it has its job on disk.
CREATE TABLE stream_cursors (
  feed           TEXT    NOT NULL PRIMARY KEY,
  last_event_id  TEXT    NOT NULL CHECK (length(last_event_id) BETWEEN 1 AND 64),
  updated_at     INTEGER NOT NULL
) STRICT;

-- One row per connection to a live stream: when, from which id, what it brought, why it
-- ended (ended_at is NULL while it is open, or when the poller was killed during it).
CREATE TABLE stream_connections (
  id             INTEGER PRIMARY KEY,
  feed           TEXT    NOT NULL,
  started_at     INTEGER NOT NULL,
  ended_at       INTEGER,
  from_id        TEXT    NOT NULL,
  last_id        TEXT    NOT NULL DEFAULT '',
  http_status    INTEGER CHECK (http_status BETWEEN 100 AND 999),
  events         INTEGER NOT NULL DEFAULT 0 CHECK (events >= 0),
  heartbeats     INTEGER NOT NULL DEFAULT 0 CHECK (heartbeats >= 0),
  jobs_enqueued  INTEGER NOT NULL DEFAULT 0 CHECK (jobs_enqueued >= 0),
  filtered       INTEGER NOT NULL DEFAULT 0 CHECK (filtered >= 0),
  render_errors  INTEGER NOT NULL DEFAULT 0 CHECK (render_errors >= 0),
  end_reason     TEXT    NOT NULL DEFAULT '',
  CHECK (ended_at IS NULL OR ended_at >= started_at)
) STRICT;
CREATE INDEX stream_connections_by_feed ON stream_connections (feed, id);
CREATE INDEX stream_connections_by_started ON stream_connections (started_at);

ALTER TABLE polls ADD COLUMN filtered INTEGER NOT NULL DEFAULT 0 CHECK (filtered >= 0);

DROP VIEW poll_log;
CREATE VIEW poll_log AS
SELECT p.id, p.feed, p.status,
       strftime('%Y-%m-%dT%H:%M:%fZ', p.started_at / 1000.0, 'unixepoch') AS started,
       p.finished_at - p.started_at AS duration_ms,
       strftime('%Y-%m-%dT%H:%M:%fZ', p.window_from / 1000.0, 'unixepoch') AS window_from,
       strftime('%Y-%m-%dT%H:%M:%fZ', p.window_to / 1000.0, 'unixepoch') AS window_to,
       p.items_found, p.jobs_enqueued, p.duplicates_skipped, p.render_errors, p.error,
       p.started_at, p.filtered
FROM polls AS p;

CREATE VIEW stream_connection_log AS
SELECT c.id, c.feed,
       strftime('%Y-%m-%dT%H:%M:%fZ', c.started_at / 1000.0, 'unixepoch') AS started,
       strftime('%Y-%m-%dT%H:%M:%fZ', c.ended_at / 1000.0, 'unixepoch') AS ended,
       c.ended_at - c.started_at AS duration_ms,
       c.from_id, c.last_id, c.http_status, c.events, c.heartbeats, c.jobs_enqueued,
       c.filtered, c.render_errors, c.end_reason, c.started_at, c.ended_at
FROM stream_connections AS c;
