#include "poller/stream_feed.h"

#include <algorithm>
#include <charconv>
#include <set>
#include <utility>

#include <unistd.h>

#include "common/config.h"
#include "common/json_reader.h"
#include "common/json_writer.h"
#include "common/logging.h"
#include "poller/json_check.h"
#include "poller/stream_committer.h"

namespace webhook::poller {
namespace {

using Json = nlohmann::ordered_json;
using SteadyClock = std::chrono::steady_clock;

bool parse_id(std::string_view id, int64_t& ms, int64_t& seq) {
  auto dash = id.find('-');
  if (dash == std::string_view::npos) return false;
  auto a = std::from_chars(id.data(), id.data() + dash, ms);
  auto b = std::from_chars(id.data() + dash + 1, id.data() + id.size(), seq);
  return a.ec == std::errc() && a.ptr == id.data() + dash && b.ec == std::errc() &&
         b.ptr == id.data() + id.size();
}

bool is_false_word(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text == "false" || text == "no" || text == "none";
}

}  // namespace

int compare_stream_ids(std::string_view a, std::string_view b) {
  int64_t am = 0, as = 0, bm = 0, bs = 0;
  if (parse_id(a, am, as) && parse_id(b, bm, bs)) {
    if (am != bm) return am < bm ? -1 : 1;
    if (as != bs) return as < bs ? -1 : 1;
    return 0;
  }
  return a < b ? -1 : (a == b ? 0 : 1);
}

StreamFeedOptions StreamFeedOptions::from_config(const Config& config) {
  StreamFeedOptions o;
  o.batch_size = config.integer("WEBHOOK_STREAM_BATCH_SIZE");
  o.batch_time = config.duration("WEBHOOK_STREAM_BATCH_TIME");
  o.reconnect_max = config.duration("WEBHOOK_STREAM_RECONNECT_MAX");
  o.reconnect_first = std::min(o.reconnect_first, o.reconnect_max);
  if (config.is_set("CONNECTOR_LIVE_STREAM_START_TIMESTAMP")) {
    o.start_timestamp = config.integer("CONNECTOR_LIVE_STREAM_START_TIMESTAMP");
  }
  std::string recover = config.string("CONNECTOR_LIVE_STREAM_RECOVER_ISO_DATE");
  if (!recover.empty() && !is_false_word(recover)) o.recover = recover;
  return o;
}

// Collects one connection's events into batches and commits them.
class StreamFeed::Batch final : public StreamHandler {
 public:
  Batch(StreamFeed& feed, int64_t connection_id, std::optional<std::string> stored)
      : feed_(feed),
        connection_id_(connection_id),
        stored_(std::move(stored)),
        committer_(feed.store_) {
    for (const auto& type : feed.feed_.config.stream_events) wanted_.insert(type);
  }

  bool on_event(SseEvent&& event) override {
    if (!opened_reported_) {
      opened_reported_ = true;
      for (auto* l : feed_.stream_listeners_) l->on_stream_open(feed_.name());
    }
    had_message_ = true;
    if (event.type == "heartbeat") {
      ++commit_.heartbeats;
      advance(event.last_event_id);
    } else if (event.type == "create" || event.type == "update" || event.type == "delete" ||
               event.type == "merge") {
      ++commit_.events;
      if (wanted_.count(event.type) == 0) {
        ++commit_.filtered;
      } else {
        enqueue(event);
      }
      advance(event.last_event_id);
    } else if (event.has_id) {
      // `connected` carries no id; anything else with one is passed over, as pycti's
      // callback would see it but the webhook connector only sends the four kinds.
      advance(event.last_event_id);
    }
    // A full batch waits while the previous one is still being committed (up to four times
    // its size): the reader keeps reading instead of waiting, and the commit after is
    // larger, so a burst pays fewer commits.
    const int64_t held = commit_.events + commit_.heartbeats;
    if (held >= feed_.options_.batch_size &&
        (!committer_.busy() || held >= 4 * feed_.options_.batch_size)) {
      return flush();
    }
    return true;
  }

  bool on_idle(SteadyClock::time_point now) override {
    if (pending() && now - opened_ >= feed_.options_.batch_time && !committer_.busy()) {
      if (!flush()) return false;
    }
    if (now >= next_turn_) {
      next_turn_ = now + std::chrono::seconds(1);
      const int64_t wall = feed_.clock_.now_ms();
      if (std::exchange(had_message_, false)) {
        for (auto* l : feed_.stream_listeners_) l->on_stream_message(feed_.name(), wall);
      }
      for (auto* l : feed_.listeners_) l->on_turn(wall);
      // An operator's rewind (webhookctl rewind) moves the stored cursor; a batch read
      // before it is refused at commit, but a quiet stream may bring none for long: this
      // look ends the connection within a second, to reconnect from the new cursor. With
      // a commit in flight, that commit is the look.
      if (!committer_.busy() && !cursor_still_ours()) return false;
      if (now >= next_beat_) {
        // The poller's sign of life, which health checks read beside the open connection.
        next_beat_ = now + std::chrono::seconds(10);
        if (!settle()) return false;  // the store is the committer's while it commits
        try {
          feed_.store_.heartbeat("poller", feed_.worker_, wall);
        } catch (const std::exception& e) {
          log_event(spdlog::level::warn, "cannot write the heartbeat", {{"error", e.what()}});
        }
      }
    }
    return true;
  }

  // Starts committing what is held, on the committer's thread; false when the stored
  // cursor moved meanwhile (the batch before, or this one later, wrote nothing). The next
  // batch expects the cursor this one sets: if this one is refused or fails, the next is
  // never written.
  bool flush() {
    if (!pending()) return true;
    commit_.feed = feed_.feed_.config.name;
    commit_.connection_id = connection_id_;
    commit_.expected_cursor = stored_;
    commit_.now = feed_.clock_.now_ms();
    commit_.ordering = {feed_.feed_.config.order_dead_blocks, feed_.feed_.config.coalesce};
    commit_.lease_epoch = feed_.lease_epoch_;
    StreamBatchWritten counts{commit_.events,
                              static_cast<int64_t>(commit_.jobs.size()) - commit_.render_errors,
                              commit_.filtered, commit_.render_errors, commit_.new_cursor};
    if (!committer_.submit(std::exchange(commit_, store::StreamCommit{}))) {
      conflict_ = true;
      return false;
    }
    report_written();  // the batch before this one
    stored_ = counts.cursor;
    in_flight_ = std::move(counts);
    return true;
  }

  // Commits what is held and waits until it is written (the connection's end): false when
  // the stored cursor had moved. Rethrows a failed commit. The store is then free.
  bool finish() {
    if (!conflict_ && !flush()) return false;
    return settle();
  }

  // After a failure: waits for a commit in flight and drops what it threw (the failure
  // being reported is the first one).
  void abandon() noexcept {
    try {
      committer_.wait();
    } catch (...) {
    }
  }

  bool conflict() const { return conflict_; }

 private:
  bool pending() const { return !commit_.new_cursor.empty(); }

  // Waits for the commit in flight; false (and conflict) when it was refused.
  bool settle() {
    if (!committer_.wait()) {
      conflict_ = true;
      in_flight_.reset();
    }
    report_written();
    return !conflict_;
  }

  // Whether the stored cursor is still the one this connection's batches build on (the
  // commit in flight settled first). A store that cannot be read says nothing: the next
  // commit finds out.
  bool cursor_still_ours() {
    if (!settle()) return false;
    std::optional<std::string> stored;
    try {
      stored = feed_.store_.stream_cursor(feed_.name());
    } catch (const std::exception&) {
      return true;
    }
    if (stored == stored_) return true;
    conflict_ = true;
    return false;
  }

  // Tells the listeners about the batch last submitted, now known to be written.
  void report_written() {
    if (!in_flight_) return;
    for (auto* l : feed_.stream_listeners_) l->on_stream_batch(feed_.name(), *in_flight_);
    in_flight_.reset();
  }

  void advance(const std::string& id) {
    if (id.empty()) return;
    if (!pending()) opened_ = SteadyClock::now();
    commit_.new_cursor = id;
  }

  void enqueue(const SseEvent& event) {
    const RequestRenderer& renderer = feed_.feed_.renderer;
    const bool raw = feed_.feed_.config.body_is_event_data;
    if (!renderer.needs_item() && json_check_.surely_json(event.data)) {
      // No template reads the event (the defaults: the body is the data as received):
      // checking that it is JSON is enough.
      store::NewJob job = renderer.render_constant(raw ? &event.data : nullptr);
      commit_.jobs.push_back(std::move(job));
      return;
    }
    JsonReadResult read = read_json(event.data);
    const Json event_id(event.last_event_id);
    const Json event_type(event.type);
    const Json* extras[] = {&event_id, &event_type};
    if (!read.ok()) {
      store::NewJob job = renderer.render(Json(event.data), extras, nullptr);
      job.dead = true;
      job.last_error = "the event's data is not JSON (" + read.error + ")";
      job.headers = Json::object();
      job.body = event.data;
      ++commit_.render_errors;
      commit_.jobs.push_back(std::move(job));
      return;
    }
    if (renderer.has_filter()) {
      RequestRenderer::FilterResult f = renderer.filter(read.value, extras);
      if (f.dead) {
        ++commit_.render_errors;
        commit_.jobs.push_back(std::move(*f.dead));
        return;
      }
      if (!f.pass) {
        ++commit_.filtered;
        return;
      }
    }
    store::NewJob job = renderer.render(read.value, extras, raw ? &event.data : nullptr);
    if (job.dead) ++commit_.render_errors;
    commit_.jobs.push_back(std::move(job));
  }

  StreamFeed& feed_;
  int64_t connection_id_;
  std::optional<std::string> stored_;
  std::set<std::string> wanted_;
  store::StreamCommit commit_;
  SteadyClock::time_point opened_{};
  SteadyClock::time_point next_turn_{};
  SteadyClock::time_point next_beat_{};
  bool conflict_ = false;
  bool opened_reported_ = false;
  bool had_message_ = false;                     // since the last turn
  std::optional<StreamBatchWritten> in_flight_;  // submitted, not yet known written
  JsonCheck json_check_;
  StreamCommitter committer_;  // last: destroyed (a commit in flight awaited) first
};

StreamFeed::StreamFeed(const CompiledFeed& feed, StreamClient& client, store::JobStore& store,
                       const Clock& clock, StreamFeedOptions options)
    : feed_(feed),
      client_(client),
      store_(store),
      clock_(clock),
      options_(std::move(options)),
      worker_("stream:" + std::to_string(::getpid()) + ":" + feed.config.name) {}

StreamStart StreamFeed::start() {
  if (auto stored = store_.stream_cursor(name())) {
    return {*stored, "the feed's stored cursor", false};
  }
  if (options_.registered_start) {
    return {*options_.registered_start,
            "the connector state OpenCTI kept for CONNECTOR_ID (where the connector left off)",
            !options_.recover.empty()};
  }
  if (options_.start_timestamp) {
    return {std::to_string(*options_.start_timestamp) + "-0",
            "CONNECTOR_LIVE_STREAM_START_TIMESTAMP", !options_.recover.empty()};
  }
  return {"0-0", "the start of what the platform keeps (a new feed)", !options_.recover.empty()};
}

std::chrono::milliseconds StreamFeed::backoff(int failures) const {
  if (failures <= 0) return std::chrono::milliseconds(0);
  int64_t delay = options_.reconnect_first.count();
  for (int i = 1; i < failures && delay < options_.reconnect_max.count(); ++i) delay *= 2;
  return std::chrono::milliseconds(std::min<int64_t>(delay, options_.reconnect_max.count()));
}

StreamConnection StreamFeed::connect_once(const CancelFn& cancel) {
  StreamStart from = start();
  std::optional<std::string> stored = store_.stream_cursor(name());
  if (!logged_start_) {
    logged_start_ = true;
    log_event(spdlog::level::info, "stream feed starts",
              {{"feed", name()},
               {"stream", feed_.config.stream_id},
               {"from", from.from_id},
               {"because", from.reason},
               {"recover", from.recover ? options_.recover : std::string()}});
  }
  const int64_t id = store_.open_stream_connection(name(), clock_.now_ms(), from.from_id);
  Batch batch(*this, id, stored);
  StreamConnection connection;
  std::string reason;
  try {
    connection = client_.run(
        feed_.config.stream_id, from.from_id, from.recover ? options_.recover : std::string(),
        batch, cancel,
        std::min<std::chrono::milliseconds>(options_.batch_time, std::chrono::milliseconds(100)));
    // Every event dispatched before the end was whole: commit them.
    batch.finish();
  } catch (const std::exception& e) {
    batch.abandon();
    for (auto* l : stream_listeners_) l->on_stream_end(name(), "store_failed");
    try {
      const bool lost = dynamic_cast<const store::LeaseLostError*>(&e) != nullptr;
      store_.close_stream_connection(id, clock_.now_ms(), std::nullopt,
                                     lost ? std::string("the feed's lease was lost: ") + e.what()
                                          : std::string("the store failed: ") + e.what());
    } catch (const std::exception&) {
      // The store is down: the row stays open, which is what a killed poller leaves too.
    }
    throw;
  }
  reason = describe(connection);
  if (batch.conflict()) {
    connection.end = StreamEnd::kStopped;
    reason =
        "the stored cursor moved meanwhile (another poller of this feed, or an operator); "
        "reconnecting from it";
    connection.error = reason;
  }
  if (connection.end != StreamEnd::kCancelled) {
    for (auto* l : stream_listeners_) {
      l->on_stream_end(name(), batch.conflict() ? "cursor_moved" : end_label(connection.end));
    }
  }
  store_.close_stream_connection(
      id, clock_.now_ms(),
      connection.http_status > 0 ? std::optional<int>(connection.http_status) : std::nullopt,
      reason);
  return connection;
}

void StreamFeed::run(StopToken& stop) {
  int failures = 0;
  auto cancel = [&] {
    return stop.stop_requested() || (leases_ != nullptr && leases_->held(name()) != lease_epoch_);
  };
  while (!stop.stop_requested()) {
    if (leases_ != nullptr) {
      lease_epoch_ = leases_->held(name());
      if (!lease_epoch_) {
        // Standing by: another poller streams the feed.
        for (auto* l : listeners_) l->on_turn(clock_.now_ms());
        if (stop.wait_for(PollLoop::kStandbyLook)) break;
        failures = 0;
        continue;
      }
    }
    std::chrono::milliseconds wait{0};
    try {
      StreamConnection c = connect_once(cancel);
      if (c.end == StreamEnd::kCancelled) {
        if (stop.stop_requested()) break;
        log_event(spdlog::level::warn,
                  "stream connection ended: the feed's lease was lost; standing by",
                  {{"feed", name()}, {"epoch", lease_epoch_.value_or(0)}});
        continue;
      }
      const bool progressed = c.opened() && c.events > 0;
      failures = progressed ? 0 : failures + 1;
      if (c.end != StreamEnd::kClosed || !progressed) {
        log_event(progressed ? spdlog::level::info : spdlog::level::warn,
                  "stream connection ended; reconnecting from the cursor",
                  {{"feed", name()}, {"reason", describe(c)}, {"events", c.events}});
      }
      wait = backoff(failures);
      if (c.retry_ms && failures > 0) wait = std::max(wait, std::chrono::milliseconds(*c.retry_ms));
    } catch (const store::LeaseLostError& e) {
      // The batch in memory is thrown away: the feed's new holder streams it again.
      if (leases_ != nullptr && lease_epoch_) leases_->lost(name(), *lease_epoch_);
      log_event(spdlog::level::warn,
                "stream batch thrown away: the store refused it, the feed's lease was lost; "
                "standing by",
                {{"feed", name()}, {"epoch", lease_epoch_.value_or(0)}, {"error", e.what()}});
      continue;
    } catch (const std::exception& e) {
      ++failures;
      wait = backoff(failures);
      log_event(spdlog::level::err, "stream feed failed; reconnecting from the stored cursor",
                {{"feed", name()}, {"error", e.what()}});
    }
    for (auto* l : listeners_) l->on_turn(clock_.now_ms());
    if (wait.count() > 0 && stop.wait_for(wait)) break;
  }
}

}  // namespace webhook::poller
