// A stream feed (DESIGN.md § Stream feeds): holds an SSE connection to an OpenCTI live
// stream and turns each event into a job. Events are batched: the jobs of the events up to
// a stream id and that id are committed in ONE commit_stream, when `batch_size` events
// arrived or `batch_time` passed, whichever comes first (a full batch grows, up to four
// times, while the one before is still being committed), and heartbeats move the cursor
// while nothing else happens. Every (re)connection resumes with Last-Event-ID set to the
// stored cursor, so a crash anywhere neither loses an event nor enqueues one twice. Each
// connection is recorded (when, from which id, counts, why it ended); a failed one is
// retried after 1 s, 2 s, 4 s ... up to `reconnect_max`. A stored cursor moved by someone
// else (webhookctl rewind) ends the connection: a batch read before it is refused at commit,
// and a quiet connection looks at the cursor every second; the next one starts from the
// moved cursor (end reason cursor_moved). With a FeedLeaseKeeper the feed
// streams only while this process holds its lease (standing by otherwise); the connection
// ends as soon as the lease is lost, and every batch is fenced by the lease's epoch.
// Borrows the feed, client, store, clock, keeper and listeners, which must outlive it; one
// thread at a time (run() owns it).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/store/job_store.h"
#include "poller/compiled_feed.h"
#include "poller/feed_lease_keeper.h"
#include "poller/poll_loop.h"
#include "poller/stop_token.h"
#include "poller/stream_client.h"
#include "poller/stream_listener.h"

namespace webhook {
class Config;
}

namespace webhook::poller {

struct StreamFeedOptions {
  int64_t batch_size = 500;                   // WEBHOOK_STREAM_BATCH_SIZE
  std::chrono::milliseconds batch_time{200};  // WEBHOOK_STREAM_BATCH_TIME
  std::chrono::milliseconds reconnect_first{1000};
  std::chrono::milliseconds reconnect_max{60000};  // WEBHOOK_STREAM_RECONNECT_MAX
  std::optional<int64_t> start_timestamp;          // CONNECTOR_LIVE_STREAM_START_TIMESTAMP
  std::string recover;  // CONNECTOR_LIVE_STREAM_RECOVER_ISO_DATE; empty: none
  // The `start_from` of the connector state OpenCTI returned at registration (a user
  // switching from the Python connector left off there).
  std::optional<std::string> registered_start;

  static StreamFeedOptions from_config(const Config& config);
};

// Where a feed starts and why, for the log line at start.
struct StreamStart {
  std::string from_id;
  std::string reason;
  bool recover = false;  // a new feed's first connection asks for ?recover=
};

// "<ms>-<seq>" compared as OpenCTI orders ids: -1, 0, 1 (malformed ids compare as text).
int compare_stream_ids(std::string_view a, std::string_view b);

class StreamFeed {
 public:
  StreamFeed(const CompiledFeed& feed, StreamClient& client, store::JobStore& store,
             const Clock& clock, StreamFeedOptions options);

  // A listener that is a StreamListener too hears the stream's own news as well.
  void add_listener(PollListener* listener) {
    listeners_.push_back(listener);
    if (auto* s = dynamic_cast<StreamListener*>(listener)) stream_listeners_.push_back(s);
  }
  // Streams only under this process's lease of the feed (null: always, unfenced).
  void set_leases(FeedLeaseKeeper* leases) { leases_ = leases; }

  // Where the next connection starts: the stored cursor, else the registered state's
  // start_from, else CONNECTOR_LIVE_STREAM_START_TIMESTAMP, else 0-0.
  StreamStart start();

  // One connection: reads and commits until it ends; records it. Throws when the store
  // fails (the batch in memory is then dropped; the next connection resumes from the
  // stored cursor). Batches are committed on a thread of their own (StreamCommitter)
  // while the next is read: `cancel` and the listeners must not use the feed's store.
  StreamConnection connect_once(const CancelFn& cancel = {});

  // Connects and reconnects until a stop is requested.
  void run(StopToken& stop);

  // The worker name of this feed's heartbeat rows (process "poller").
  const std::string& heartbeat_worker() const { return worker_; }

  // The delay before reconnecting after `failures` consecutive failed connections.
  std::chrono::milliseconds backoff(int failures) const;

  const std::string& name() const { return feed_.config.name; }

 private:
  class Batch;

  const CompiledFeed& feed_;
  StreamClient& client_;
  store::JobStore& store_;
  const Clock& clock_;
  StreamFeedOptions options_;
  std::vector<PollListener*> listeners_;
  std::vector<StreamListener*> stream_listeners_;
  FeedLeaseKeeper* leases_ = nullptr;
  std::optional<int64_t> lease_epoch_;  // of the connection under way
  bool logged_start_ = false;
  std::string worker_;  // this feed's name in the heartbeat rows
};

}  // namespace webhook::poller
