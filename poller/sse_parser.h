// An incremental parser of `text/event-stream` (WHATWG HTML, § "Server-sent events",
// "Interpreting an event stream"): bytes in, in chunks cut anywhere, dispatched events out.
// Lines end with CRLF, LF or CR (a CR at the end of one chunk and an LF at the start of the
// next are one line end); a leading UTF-8 BOM is dropped; `field:value` loses one space
// after the colon; several `data:` lines are joined with LF; lines starting with `:` are
// comments; an event is dispatched at a blank line, and one without data is not. The last
// event id persists across events, as the specification says, and starts at the id the
// connection resumed from. A value is kept as bytes: the stream's data is sent on byte for
// byte. One parser per connection; not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace webhook::poller {

struct SseEvent {
  std::string type = "message";  // the `event:` field, "message" when none was given
  std::string data;              // the `data:` lines joined with LF
  std::string last_event_id;     // the last `id:` seen on this stream (or the initial one)
  bool has_id = false;           // this event itself carried an `id:` field
};

class SseParser {
 public:
  using EventFn = std::function<void(SseEvent&&)>;

  // `initial_id`: the last event id before this connection (what Last-Event-ID carried).
  // An event larger than `max_event_bytes` makes feed() fail (a server gone wrong must not
  // exhaust memory).
  explicit SseParser(std::string initial_id = {}, std::size_t max_event_bytes = 64u << 20);

  // Parses `bytes`, calling `on_event` for each dispatched event. Returns false (and
  // parses nothing more) when an event grew past the limit; error() says so.
  bool feed(std::string_view bytes, const EventFn& on_event);

  // The `retry:` reconnection time last given, in milliseconds.
  std::optional<int64_t> retry_ms() const { return retry_ms_; }
  const std::string& last_event_id() const { return last_event_id_; }
  // Bytes of an event begun but not dispatched (a connection that ends here cut it).
  bool in_event() const { return event_bytes_ > 0; }
  const std::string& error() const { return error_; }

 private:
  void line(std::string_view text, const EventFn& on_event);
  void dispatch(const EventFn& on_event);

  std::size_t max_event_bytes_;
  std::string line_;  // the line being read
  std::string data_;  // each data line and an LF, as the specification's data buffer
  std::string type_;
  std::string last_event_id_;
  bool event_has_id_ = false;
  std::optional<int64_t> retry_ms_;
  bool after_cr_ = false;  // the previous byte was a CR: an LF now ends nothing
  bool bom_checked_ = false;
  std::size_t event_bytes_ = 0;
  std::string error_;
};

}  // namespace webhook::poller
