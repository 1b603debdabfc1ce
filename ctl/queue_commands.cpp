// webhookctl's queue commands: status, jobs, show, blocked, retry, cancel, prune, rewind. Each
// opens the store on the shared file (safe while the poller and the dispatcher run: every change is
// one short write transaction) and prints a table, or JSON with --json.
#include <iostream>
#include <optional>
#include <span>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "ctl/arguments.h"
#include "ctl/commands.h"
#include "ctl/dispatcher_fleet.h"
#include "ctl/feed_rewind.h"
#include "ctl/queue_access.h"
#include "ctl/queue_json.h"
#include "ctl/table_printer.h"
#include "ctl/time_text.h"

namespace webhook::ctl {
namespace {

using nlohmann::ordered_json;
using store::JobState;

constexpr int kPruneBatch = 500;
constexpr int64_t kDayMs = 86'400'000;

std::set<std::string> options(std::set<std::string> own) {
  own.insert(kQueueOptions.begin(), kQueueOptions.end());
  return own;
}

std::string time_text(std::optional<int64_t> ms) { return ms ? format_utc(*ms) : "-"; }

std::string status_text(std::optional<int> status) {
  return status ? std::to_string(*status) : "-";
}

// When the job next matters: its due time while pending, lease end while running, else
// when it finished.
std::string when_text(const store::JobRow& j) {
  switch (j.state) {
    case JobState::kPending:
      return "due " + format_utc(j.next_attempt_at);
    case JobState::kRunning:
      return "lease to " + format_utc(j.lease_expires_at);
    default:
      return "done " + time_text(j.finished_at);
  }
}

int parse_count(const std::string& name, const std::string& text, int64_t min) {
  try {
    std::size_t used = 0;
    long long value = std::stoll(text, &used);
    if (used == text.size() && value >= min && value <= 1'000'000'000)
      return static_cast<int>(value);
  } catch (const std::exception&) {
  }
  throw UsageError("--" + name + " must be a whole number >= " + std::to_string(min) + ", not '" +
                   text + "'");
}

// When the process whose heartbeat is the newest of `process`'s rows said it stopped (a
// clean stop), if it did.
std::optional<int64_t> last_stopped_at(std::span<const store::HeartbeatRow> rows,
                                       std::string_view process) {
  const store::HeartbeatRow* last = nullptr;
  for (const auto& row : rows) {
    if (row.process == process && (last == nullptr || row.at > last->at)) last = &row;
  }
  return last != nullptr ? last->stopped_at : std::nullopt;
}

int status_with_heartbeats(store::JobStore& store, bool json, const FleetRule& fleet) {
  SystemClock clock;
  const int64_t now = clock.now_ms();
  auto feeds = store.status();
  ordered_json out = ordered_json::array();
  TablePrinter table({"FEED", "CURSOR", "LAST POLL", "RESULT", "PENDING", "RUNNING", "DELIVERED",
                      "DEAD", "CANCELLED", "SUPERSEDED", "OLDEST PENDING"});
  for (const auto& f : feeds) {
    out.push_back(feed_status_json(f));
    std::string result = "-";
    if (f.last_poll) {
      result = f.last_poll->record.ok ? "ok" : "failed: " + one_line(f.last_poll->record.error, 40);
    }
    auto count = [&](JobState s) { return std::to_string(f.counts.count(s) ? f.counts.at(s) : 0); };
    table.add_row(
        {f.feed, time_text(f.cursor),
         f.last_poll ? format_utc(f.last_poll->record.finished_at) : "-", result,
         count(JobState::kPending), count(JobState::kRunning), count(JobState::kDelivered),
         count(JobState::kDead), count(JobState::kCancelled), count(JobState::kSuperseded),
         f.oldest_pending_created_at ? format_age(now - *f.oldest_pending_created_at) : "-"});
  }
  ordered_json beats = ordered_json::object();
  for (const char* process : {"poller", "dispatcher"})
    beats[process] = time_json(store.last_heartbeat(process));
  const std::vector<store::HeartbeatRow> heartbeat_rows = store.heartbeats();
  const std::optional<int64_t> poller_stopped_at = last_stopped_at(heartbeat_rows, "poller");
  // Stream feeds: their cursor (a stream id) and their last connections.
  const auto stream_cursors = store.stream_cursors();
  const auto connections = store.list_stream_connections(std::nullopt, 10);
  ordered_json streams = ordered_json::array();
  TablePrinter stream_table(
      {"STREAM FEED", "CURSOR", "CONNECTED", "FROM", "EVENTS", "JOBS", "FILTERED", "ENDED"});
  for (const auto& c : connections) {
    auto cursor = stream_cursors.find(c.feed);
    streams.push_back(
        {{"id", c.id},
         {"feed", c.feed},
         {"cursor",
          cursor == stream_cursors.end() ? ordered_json(nullptr) : ordered_json(cursor->second)},
         {"started_at", c.started_at},
         {"ended_at", time_json(c.ended_at)},
         {"from_id", c.from_id},
         {"last_id", c.last_id},
         {"http_status", c.http_status ? ordered_json(*c.http_status) : ordered_json(nullptr)},
         {"events", c.events},
         {"heartbeats", c.heartbeats},
         {"jobs_enqueued", c.jobs_enqueued},
         {"filtered", c.filtered},
         {"render_errors", c.render_errors},
         {"end_reason", c.end_reason}});
    stream_table.add_row(
        {c.feed, cursor == stream_cursors.end() ? "-" : cursor->second, format_utc(c.started_at),
         c.from_id, std::to_string(c.events), std::to_string(c.jobs_enqueued),
         std::to_string(c.filtered),
         c.ended_at ? one_line(c.end_reason, 40) : std::string("open (or the poller died)")});
  }
  // Who polls each feed (README "Standby pollers").
  const auto leases = store.feed_leases();
  ordered_json lease_rows = ordered_json::array();
  TablePrinter lease_table({"FEED", "ACTIVE POLLER", "EPOCH", "LEASE", "SINCE"});
  for (const auto& l : leases) {
    lease_rows.push_back(feed_lease_json(l, now));
    lease_table.add_row({l.feed, l.holder, std::to_string(l.epoch),
                         l.expires_at > now ? "until " + format_utc(l.expires_at)
                                            : "free since " + format_utc(l.expires_at),
                         format_utc(l.acquired_at)});
  }
  if (json) {
    std::cout << ordered_json{{"feeds", out},
                              {"heartbeats", beats},
                              {"poller_stopped_at", time_json(poller_stopped_at)},
                              {"dispatchers", dispatchers_json(heartbeat_rows, now, fleet)},
                              {"stream_connections", streams},
                              {"feed_leases", lease_rows}}
                     .dump(2)
              << "\n";
    return 0;
  }
  if (feeds.empty()) {
    std::cout << "no feed has polled yet and the queue is empty\n";
  } else {
    table.print(std::cout);
  }
  if (!connections.empty()) {
    std::cout << "\nlast stream connections, newest first:\n";
    stream_table.print(std::cout);
  }
  if (!leases.empty()) {
    std::cout << "\nfeed leases (the other pollers stand by):\n";
    lease_table.print(std::cout);
  }
  if (auto blocked = store.blocked_keys(std::nullopt, 1); !blocked.empty()) {
    std::cout << "order keys are blocked by dead jobs: see webhookctl blocked\n";
  }
  for (const char* process : {"poller", "dispatcher"}) {
    auto at = store.last_heartbeat(process);
    std::cout << process << ": "
              << (at ? "last seen " + format_utc(*at) + " (" + format_age(now - *at) + " ago)"
                     : std::string("never seen"));
    // Pollers have no table of their own (dispatchers do, below).
    if (process == std::string("poller") && poller_stopped_at) {
      std::cout << ", stopped at " << format_utc(*poller_stopped_at);
    }
    std::cout << "\n";
  }
  print_dispatchers(std::cout, heartbeat_rows, now, fleet);
  return 0;
}

}  // namespace

int status_command(const Args& args) {
  Arguments a(args, options({}), {"json"});
  if (!a.positional().empty()) throw UsageError("unexpected argument '" + a.positional()[0] + "'");
  const Config config = load_queue_config(a);
  auto queue = open_queue(a, config);
  return status_with_heartbeats(*queue.store, a.flag("json"), fleet_rule_from_config(config));
}

int jobs_command(const Args& args) {
  Arguments a(args, options({"state", "feed", "limit"}), {"json"});
  if (!a.positional().empty()) throw UsageError("unexpected argument '" + a.positional()[0] + "'");
  store::JobFilter filter;
  if (auto state = a.value("state")) {
    filter.state = store::parse_job_state(*state);
    if (!filter.state) {
      throw UsageError(
          "--state must be pending, running, delivered, dead, cancelled or superseded, not '" +
          *state + "'");
    }
  }
  filter.feed = a.value("feed");
  if (auto limit = a.value("limit")) filter.limit = parse_count("limit", *limit, 1);
  auto queue = open_queue(a);
  auto rows = queue.store->list_jobs(filter);
  if (a.flag("json")) {
    ordered_json out = ordered_json::array();
    for (const auto& j : rows) out.push_back(job_json(j));
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  if (rows.empty()) {
    std::cout << "no jobs\n";
    return 0;
  }
  TablePrinter table({"SEQ", "ID", "FEED", "STATE", "TRIES", "WHEN", "HTTP", "URL", "LAST ERROR"});
  for (const auto& j : rows) {
    table.add_row({std::to_string(j.seq), j.id, j.feed, std::string(store::to_string(j.state)),
                   std::to_string(j.attempts) + "/" + std::to_string(j.max_attempts), when_text(j),
                   status_text(j.last_status), one_line(j.url, 60), one_line(j.last_error, 40)});
  }
  table.print(std::cout);
  return 0;
}

int show_command(const Args& args) {
  Arguments a(args, options({}), {"json"});
  if (a.positional().size() != 1) throw UsageError("expected one job id (UUID or seq number)");
  auto queue = open_queue(a);
  auto detail = queue.store->job(a.positional()[0]);
  if (!detail) {
    std::cerr << "webhookctl show: no job " << a.positional()[0] << "\n";
    return 1;
  }
  const auto& j = detail->job;
  if (a.flag("json")) {
    std::cout << job_detail_json(*detail).dump(2) << "\n";
    return 0;
  }
  std::cout << "job " << j.seq << "  " << j.id << "\n"
            << "  feed:      " << j.feed << " (poll " << j.poll_id << ")\n"
            << "  state:     " << store::to_string(j.state) << ", " << when_text(j) << "\n"
            << "  attempts:  " << j.attempts << " of " << j.max_attempts << "\n"
            << "  request:   " << j.method << " " << j.url << "\n";
  if (j.order_key) {
    std::cout << "  order key: " << *j.order_key
              << (j.dead_blocks_key ? " (a dead job holds the key)" : "") << "\n";
  }
  for (const auto& [name, value] : j.headers.items()) {
    std::cout << "  header:    " << name << ": "
              << (value.is_string() ? value.get<std::string>() : value.dump()) << "\n";
  }
  if (!j.body.empty()) std::cout << "  body:      " << one_line(j.body, 200) << "\n";
  std::cout << "  created:   " << format_utc(j.created_at) << "\n"
            << "  updated:   " << format_utc(j.updated_at) << "\n";
  if (!j.lease_owner.empty()) std::cout << "  leased by: " << j.lease_owner << "\n";
  if (j.last_status || !j.last_error.empty()) {
    std::cout << "  last:      HTTP " << status_text(j.last_status) << " " << j.last_error << "\n";
  }
  if (detail->attempts.empty()) {
    std::cout << "\nno attempts yet\n";
    return 0;
  }
  std::cout << "\n";
  TablePrinter table({"#", "STARTED", "DURATION", "HTTP", "WORKER", "ERROR", "RESPONSE"});
  for (const auto& at : detail->attempts) {
    table.add_row({std::to_string(at.number), format_utc(at.started_at),
                   std::to_string(at.duration_ms) + "ms", status_text(at.http_status), at.worker,
                   one_line(at.error, 50), one_line(at.response_head, 50)});
  }
  table.print(std::cout);
  return 0;
}

namespace {

// Resolves each word (UUID or seq) to a job whose state is in `allowed`; reports the others
// on stderr. Returns the ids to act on and whether every word was usable.
std::pair<std::vector<std::string>, bool> resolve(store::JobStore& store,
                                                  const std::vector<std::string>& words,
                                                  std::set<JobState> allowed,
                                                  const std::string& command,
                                                  const std::string& allowed_text) {
  std::vector<std::string> ids;
  bool all = true;
  for (const auto& word : words) {
    auto detail = store.job(word);
    if (!detail) {
      std::cerr << "webhookctl " << command << ": no job " << word << "\n";
      all = false;
    } else if (!allowed.count(detail->job.state)) {
      std::cerr << "webhookctl " << command << ": job " << word << " is "
                << store::to_string(detail->job.state) << "; only " << allowed_text
                << " jobs can be " << (command == "retry" ? "retried" : "cancelled") << "\n";
      all = false;
    } else {
      ids.push_back(detail->job.id);
    }
  }
  return {ids, all};
}

void print_count(bool json, const char* key, int64_t n, const std::string& text) {
  if (json) {
    std::cout << ordered_json{{key, n}}.dump() << "\n";
  } else {
    std::cout << text << "\n";
  }
}

}  // namespace

int retry_command(const Args& args) {
  Arguments a(args, options({"feed"}), {"json", "dead"});
  SystemClock clock;
  if (a.flag("dead")) {
    if (!a.positional().empty()) throw UsageError("give either job ids or --dead, not both");
    auto queue = open_queue(a);
    int n = queue.store->requeue_dead(a.value("feed"), clock.now_ms());
    print_count(a.flag("json"), "requeued", n, "requeued " + std::to_string(n) + " dead job(s)");
    return 0;
  }
  if (a.value("feed")) throw UsageError("--feed goes with --dead");
  if (a.positional().empty()) throw UsageError("expected job ids (UUID or seq number) or --dead");
  auto queue = open_queue(a);
  auto [ids, all] = resolve(*queue.store, a.positional(), {JobState::kDead, JobState::kCancelled},
                            "retry", "dead or cancelled");
  int n = ids.empty() ? 0 : queue.store->requeue(ids, clock.now_ms());
  print_count(a.flag("json"), "requeued", n, "requeued " + std::to_string(n) + " job(s)");
  return all && n == static_cast<int>(ids.size()) ? 0 : 1;
}

int cancel_command(const Args& args) {
  Arguments a(args, options({}), {"json"});
  if (a.positional().empty()) throw UsageError("expected job ids (UUID or seq number)");
  auto queue = open_queue(a);
  SystemClock clock;
  auto [ids, all] = resolve(*queue.store, a.positional(), {JobState::kPending, JobState::kDead},
                            "cancel", "pending or dead");
  int n = ids.empty() ? 0 : queue.store->cancel(ids, clock.now_ms());
  print_count(a.flag("json"), "cancelled", n, "cancelled " + std::to_string(n) + " job(s)");
  return all && n == static_cast<int>(ids.size()) ? 0 : 1;
}

int blocked_command(const Args& args) {
  Arguments a(args, options({"feed", "limit"}), {"json"});
  if (!a.positional().empty()) throw UsageError("unexpected argument '" + a.positional()[0] + "'");
  int limit = 100;
  if (auto text = a.value("limit")) limit = parse_count("limit", *text, 1);
  auto queue = open_queue(a);
  auto keys = queue.store->blocked_keys(a.value("feed"), limit);
  if (a.flag("json")) {
    ordered_json out = ordered_json::array();
    for (const auto& k : keys) out.push_back(blocked_key_json(k));
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  if (keys.empty()) {
    std::cout << "no order key is blocked\n";
    return 0;
  }
  TablePrinter table({"FEED", "ORDER KEY", "BLOCKED BY", "DEAD SINCE", "WAITING", "LAST ERROR"});
  for (const auto& k : keys) {
    table.add_row({k.feed, one_line(k.order_key, 50),
                   std::to_string(k.blocking_seq) + " " + k.blocking_id, format_utc(k.dead_since),
                   std::to_string(k.waiting), one_line(k.last_error, 40)});
  }
  table.print(std::cout);
  std::cout << "webhookctl retry SEQ sends the dead job again; webhookctl cancel SEQ lets the "
               "key go on without it\n";
  return 0;
}

int prune_command(const Args& args) {
  Arguments a(args, options({"older-than"}), {"json"});
  if (!a.positional().empty()) throw UsageError("unexpected argument '" + a.positional()[0] + "'");
  std::optional<int> days;
  if (auto text = a.value("older-than")) days = parse_count("older-than", *text, 0);
  auto queue = open_queue(a);
  SystemClock clock;
  int64_t keep_days = days ? *days : queue.retention_days;
  int64_t before = clock.now_ms() - keep_days * kDayMs;
  store::PruneResult r = queue.store->prune(before, kPruneBatch);
  if (a.flag("json")) {
    std::cout << ordered_json{{"before", time_json(before)},
                              {"jobs", r.jobs},
                              {"attempts", r.attempts},
                              {"polls", r.polls}}
                     .dump()
              << "\n";
  } else {
    std::cout << "pruned " << r.jobs << " finished job(s), " << r.attempts << " attempt(s) and "
              << r.polls << " poll(s) older than " << keep_days << " day(s) (before "
              << format_utc(before) << ")\n";
  }
  return 0;
}

int rewind_command(const Args& args) {
  Arguments a(args, options({"feed", "to"}), {"json"});
  if (!a.positional().empty()) throw UsageError("unexpected argument '" + a.positional()[0] + "'");
  auto feed = a.value("feed");
  auto to_text = a.value("to");
  if (!feed || !to_text) throw UsageError("both --feed and --to are required");
  // A value that is neither a stream id nor a time is refused before the store is opened.
  if (!parse_stream_id(*to_text) && !parse_time(*to_text)) {
    throw UsageError(
        "--to must be a stream id (1679004823824-0), an ISO-8601 time (2024-05-01T12:00:00Z) "
        "or epoch milliseconds, not '" +
        *to_text + "'");
  }
  auto queue = open_queue(a);
  RewindOutcome r = rewind_feed(*queue.store, *feed, *to_text, "--to", SystemClock().now_ms());
  if (r.result != RewindOutcome::Result::kMoved) throw UsageError(r.message);
  if (a.flag("json")) {
    std::cout << r.json.dump() << "\n";
  } else {
    std::cout << r.message << "\n";
  }
  return 0;
}

}  // namespace webhook::ctl
