// Hooks for what watches a stream feed without being part of it (the metrics): its
// connection opening and ending, its committed batches and its last message. Called on the
// feed's thread (a batch once its commit is known to be written); an implementation shared
// by several feeds must be thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace webhook::poller {

struct StreamBatchWritten {
  int64_t events = 0;         // create/update/delete/merge events in the batch
  int64_t jobs_enqueued = 0;  // pending jobs written
  int64_t filtered = 0;       // kept out by WEBHOOK_STREAM_EVENTS or WEBHOOK_FILTER
  int64_t render_errors = 0;
  std::string cursor;  // the stored cursor after the batch
};

class StreamListener {
 public:
  virtual ~StreamListener() = default;
  // The stream answered (its first message came).
  virtual void on_stream_open(const std::string& /*feed*/) {}
  // An event or heartbeat came at `now` (epoch ms); reported at most once a second.
  virtual void on_stream_message(const std::string& /*feed*/, int64_t /*now*/) {}
  virtual void on_stream_batch(const std::string& /*feed*/, const StreamBatchWritten& /*b*/) {}
  // A connection ended for `reason` (a short label: closed, cut, http_status, transport,
  // silent, too_large, cursor_moved, store_failed); not called at shutdown.
  virtual void on_stream_end(const std::string& /*feed*/, std::string_view /*reason*/) {}
};

}  // namespace webhook::poller
