// The OpenCTI live-stream client: one SSE connection to {OPENCTI_URL}/stream/{id} at a time,
// with the headers pycti's ListenStream sends (Authorization: Bearer, listen-delete,
// no-dependencies, with-inferences) and Last-Event-ID set to where the caller resumes. It
// parses the stream (SseParser) and hands each event to a StreamHandler, on the calling
// thread, until the connection ends, the handler stops it, the caller cancels, or nothing
// arrived for the watchdog's time; then it says why it ended. Reconnecting (and its
// backoff) is the caller's affair. The libcurl handle is reused; one thread at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "poller/graphql_client.h"
#include "poller/sse_parser.h"

namespace webhook {
class Config;
}

namespace webhook::poller {

struct StreamOptions {
  std::string url;    // OPENCTI_URL; a trailing slash is tolerated
  std::string token;  // OPENCTI_TOKEN, sent as a Bearer token; never logged
  std::vector<std::pair<std::string, std::string>> custom_headers;  // OPENCTI_CUSTOM_HEADERS
  bool ssl_verify = true;
  std::string ca_file;
  bool listen_delete = true;     // CONNECTOR_LIVE_STREAM_LISTEN_DELETE
  bool no_dependencies = true;   // CONNECTOR_LIVE_STREAM_NO_DEPENDENCIES
  bool with_inferences = false;  // CONNECTOR_LIVE_STREAM_WITH_INFERENCES
  // pycti's StreamAlive ends a connector after 45 s without a message; here it ends the
  // connection, which is then opened again from the cursor.
  std::chrono::milliseconds watchdog{45000};
  std::chrono::milliseconds connect_timeout{30000};
  std::size_t max_event_bytes = 64u << 20;
  std::string user_agent = std::string("opencti-webhook/") + WEBHOOK_VERSION;

  // The OPENCTI_* settings and the CONNECTOR_LIVE_STREAM_* flags. Throws
  // std::invalid_argument naming the setting when OPENCTI_CUSTOM_HEADERS is malformed.
  static StreamOptions from_config(const Config& config);
};

// What the connection delivers, on the client's thread. on_event and on_idle return false to
// end the connection (StreamEnd::kStopped); an exception they throw ends it and is rethrown
// by StreamClient::run once curl has let go.
class StreamHandler {
 public:
  virtual ~StreamHandler() = default;
  virtual bool on_event(SseEvent&& event) = 0;
  // At least every `idle_every` and after each chunk of bytes: a chance to commit a batch
  // whose time is up. `now` is steady time.
  virtual bool on_idle(std::chrono::steady_clock::time_point /*now*/) { return true; }
};

enum class StreamEnd {
  kClosed,       // the server ended the stream between events
  kCutMidEvent,  // it ended part-way through an event (what was begun is dropped)
  kHttpStatus,   // the answer was not 200 text/event-stream
  kTransport,    // connect failure, reset, TLS error
  kSilent,       // nothing for the watchdog's time
  kTooLarge,     // one event larger than max_event_bytes
  kStopped,      // the handler said stop
  kCancelled,    // the caller's cancel function (shutdown)
};

struct StreamConnection {
  StreamEnd end = StreamEnd::kClosed;
  int http_status = 0;
  std::string error;                // one line, never the token
  int64_t events = 0;               // events dispatched to the handler
  std::optional<int64_t> retry_ms;  // the server's `retry:`, if it gave one
  bool opened() const { return http_status == 200 && end != StreamEnd::kHttpStatus; }
};

// "closed by the server", "HTTP 401: ...", ... for the connection history.
std::string describe(const StreamConnection& connection);

// A short word for how a connection ended, for the metrics' labels: closed, cut,
// http_status, transport, silent, too_large, stopped, cancelled.
std::string_view end_label(StreamEnd end);

// {OPENCTI_URL}/stream/{id}, with ?recover=<date> when `recover` is set.
std::string stream_url(std::string_view opencti_url, std::string_view stream_id,
                       std::string_view recover = {});

class StreamClient {
 public:
  explicit StreamClient(StreamOptions options);
  ~StreamClient();
  StreamClient(const StreamClient&) = delete;
  StreamClient& operator=(const StreamClient&) = delete;

  // One connection to `stream_id`, resuming after `last_event_id` (sent as Last-Event-ID;
  // "0-0" is the start of what the platform keeps). `recover`: an ISO date for ?recover=,
  // empty for none.
  StreamConnection run(const std::string& stream_id, const std::string& last_event_id,
                       const std::string& recover, StreamHandler& handler,
                       const CancelFn& cancel = {},
                       std::chrono::milliseconds idle_every = std::chrono::milliseconds(100));

  const StreamOptions& options() const { return options_; }

 private:
  struct Handle;
  StreamOptions options_;
  std::unique_ptr<Handle> handle_;
};

}  // namespace webhook::poller
