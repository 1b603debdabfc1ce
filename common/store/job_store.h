// The durable job queue both processes share: the cursor per feed, the poll log, the jobs
// and every delivery attempt. JobStore is the seam between the queue's users (poller,
// dispatcher, webhookctl) and its storage: they never know which database they talk to.
// open_store() (common/store/open_store.h) gives the one the configuration names; the
// drivers live in common/store/sqlite/ and common/store/postgres/ and are reached only
// through it. This header holds only driver-neutral types.
//
// Times are epoch milliseconds passed in by the caller (from an injected Clock).
// A JobStore holds one database connection and is used by one thread at a time; each
// process (or thread) opens its own. All methods throw std::runtime_error (with what was
// being done) when the database itself fails; lock conflicts are retried internally.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

namespace webhook::store {

// `superseded`: a pending job never tried, replaced by a later job of its order key
// (WEBHOOK_COALESCE); final, like delivered, dead and cancelled.
enum class JobState { kPending, kRunning, kDelivered, kDead, kCancelled, kSuperseded };
// Every state, in the order listings show them.
inline constexpr JobState kAllJobStates[] = {JobState::kPending,   JobState::kRunning,
                                             JobState::kDelivered, JobState::kDead,
                                             JobState::kCancelled, JobState::kSuperseded};
std::string_view to_string(JobState state);
std::optional<JobState> parse_job_state(std::string_view text);

// A request the poller rendered, to be written by commit_poll.
struct NewJob {
  std::string id;  // UUID, the idempotency key; made by the caller
  std::string method = "GET";
  std::string url;
  nlohmann::ordered_json headers = nlohmann::ordered_json::object();  // name -> value
  std::string body;
  int64_t max_attempts = 4;  // first try + retries
  // An item that could not be rendered is stored `dead` right away, its error in
  // last_error and the item itself in body, so it shows in the history.
  bool dead = false;
  std::string last_error;
  // The rendered WEBHOOK_ORDER_KEY; unset: delivered in no particular order. Jobs of one feed
  // with the same key are claimed one at a time in enqueue order (see JobStore::claim).
  std::optional<std::string> order_key;
};

// How a commit's ordered jobs (NewJob::order_key set) behave; see PollCommit.
struct JobOrdering {
  bool dead_blocks_key = false;
  bool coalesce = false;
};

struct PollRecord {
  std::string feed;
  int64_t started_at = 0;
  int64_t finished_at = 0;
  int64_t window_from = 0;  // cursor - overlap: the time the query asked from
  int64_t window_to = 0;    // the time the query was sent (the new cursor on success)
  int64_t items_found = 0;
  int64_t jobs_enqueued = 0;
  int64_t duplicates_skipped = 0;
  int64_t render_errors = 0;
  bool ok = true;
  std::string error;     // why a failed poll failed
  int64_t filtered = 0;  // items WEBHOOK_FILTER kept out
};

// Everything one poll writes, in one transaction.
struct PollCommit {
  PollRecord poll;
  std::vector<NewJob> jobs;
  std::vector<std::string> seen_hashes;  // item hashes enqueued now, for the overlap
  int64_t forget_seen_before = 0;        // drop this feed's seen hashes recorded before this
  std::optional<int64_t> new_cursor;     // set on a successful poll only
  // The cursor the poll started from (nullopt for a new feed). If the stored cursor differs
  // (an operator rewound it meanwhile) nothing is written and commit_poll returns nullopt.
  std::optional<int64_t> expected_cursor;
  // How the feed's ordered jobs (NewJob::order_key set) behave. dead_blocks_key
  // (WEBHOOK_ORDER_ON_DEAD=block): a dead job holds the later jobs of its key until an
  // operator requeues or cancels it; otherwise they go on past it. coalesce
  // (WEBHOOK_COALESCE): each new job of a key marks the key's earlier pending jobs that were
  // never tried `superseded`, the commit's own earlier jobs of that key included.
  bool dead_blocks_key = false;
  bool coalesce = false;
  // The feed lease (acquire_feed_lease) the poll ran under. Set: nothing is written, and
  // commit_poll throws LeaseLostError, unless it is still the feed's current, unexpired
  // lease when the commit is made (SQLite judges expiry at poll.finished_at, PostgreSQL by
  // the server's clock). Unset: no lease is asked for (tests, tools).
  std::optional<int64_t> lease_epoch;
  JobOrdering ordering() const { return {dead_blocks_key, coalesce}; }
};

// What a stream feed writes in one transaction: the jobs of the events up to `new_cursor`
// (a stream id, "<ms>-<seq>") and that id, plus the counts of its connection's row.
struct StreamCommit {
  std::string feed;
  int64_t connection_id = 0;  // the stream_connections row the events came in on
  std::vector<NewJob> jobs;
  std::string new_cursor;  // the last id handled: an event's or a heartbeat's
  // The stream cursor the batch started from (nullopt for a new feed). If the stored one
  // differs (another poller moved it, an operator rewound it) nothing is written and
  // commit_stream returns false.
  std::optional<std::string> expected_cursor;
  int64_t events = 0;      // events handled in the batch, whatever became of them
  int64_t heartbeats = 0;  // heartbeats in the batch
  int64_t filtered = 0;    // events WEBHOOK_FILTER or WEBHOOK_STREAM_EVENTS kept out
  int64_t render_errors = 0;
  int64_t now = 0;       // the jobs' creation time
  JobOrdering ordering;  // as PollCommit's dead_blocks_key and coalesce
  // As PollCommit::lease_epoch (SQLite judges expiry at `now`).
  std::optional<int64_t> lease_epoch;
};

// Thrown by commit_poll and commit_stream, with nothing written, when the commit's
// lease_epoch is no longer the feed's current lease, or that lease expired: another poller
// holds the feed now (or may take it at any moment). Not a database failure and not a
// cursor conflict: the caller stops working on the feed and stands by.
class LeaseLostError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A feed's lease row: who polls the feed, since when, until when (README "Standby
// pollers"). On PostgreSQL the times are the server's clock.
struct FeedLease {
  std::string feed;
  std::string holder;  // host:pid of the poller
  int64_t epoch = 0;   // grows at every change of tenure
  int64_t acquired_at = 0;
  int64_t renewed_at = 0;
  int64_t expires_at = 0;  // a released lease expires when it was released
};

struct StreamConnectionRow {
  int64_t id = 0;
  std::string feed;
  int64_t started_at = 0;
  std::optional<int64_t> ended_at;  // nullopt: open, or the poller died during it
  std::string from_id;
  std::string last_id;
  std::optional<int> http_status;
  int64_t events = 0;
  int64_t heartbeats = 0;
  int64_t jobs_enqueued = 0;
  int64_t filtered = 0;
  int64_t render_errors = 0;
  std::string end_reason;
};

struct ClaimedJob {
  std::string id;
  std::string feed;
  std::string method;
  std::string url;
  nlohmann::ordered_json headers;
  std::string body;
  int64_t attempts = 0;  // attempts already charged before this one
  int64_t max_attempts = 0;
  int64_t created_at = 0;
  // Fencing token, unique per claim (it may also name the job to the driver): an outcome
  // is recorded only under it. Copy it into Outcome::lease_token unchanged.
  int64_t lease_token = 0;
  int64_t lease_expires_at = 0;
  // The number this attempt's row gets. Copy it into Outcome::attempt_number unchanged.
  int64_t attempt_number = 0;
};

enum class OutcomeKind { kDelivered, kRetry, kDead };

// One finished attempt and what it does to the job.
struct Outcome {
  std::string job_id;
  int64_t lease_token = 0;
  std::string worker;
  OutcomeKind kind = OutcomeKind::kDelivered;
  int64_t next_attempt_at = 0;  // kRetry only
  int64_t started_at = 0;
  int64_t duration_ms = 0;
  std::optional<int> http_status;
  std::string error;           // curl's error text or a reason; empty on success
  std::string response_head;   // the first bytes of the response body (at most 4 KiB)
  int64_t attempt_number = 0;  // ClaimedJob::attempt_number; 0: the store looks it up
};

struct RecordResult {
  int applied = 0;  // outcomes written
  int stale = 0;    // outcomes dropped: the job is no longer running under that token
};

// What record_and_claim did: the outcomes it wrote and the jobs it claimed.
struct RecordAndClaim {
  RecordResult recorded;
  std::vector<ClaimedJob> claimed;
};

struct JobRow {
  int64_t seq = 0;  // arrival order; a short number operators may use instead of the id
  std::string id;
  std::string feed;
  int64_t poll_id = 0;
  std::string method;
  std::string url;
  nlohmann::ordered_json headers;
  std::string body;
  JobState state = JobState::kPending;
  int64_t attempts = 0;
  int64_t max_attempts = 0;
  int64_t next_attempt_at = 0;
  std::string lease_owner;
  int64_t lease_expires_at = 0;
  int64_t created_at = 0;
  int64_t updated_at = 0;
  std::optional<int64_t> finished_at;
  std::optional<int> last_status;
  std::string last_error;
  std::optional<std::string> order_key;
  bool dead_blocks_key = false;  // WEBHOOK_ORDER_ON_DEAD=block when it was enqueued
};

struct AttemptRow {
  int64_t number = 0;
  int64_t started_at = 0;
  int64_t duration_ms = 0;
  std::optional<int> http_status;
  std::string error;
  std::string response_head;
  std::string worker;
};

struct JobDetail {
  JobRow job;
  std::vector<AttemptRow> attempts;
};

struct JobFilter {
  std::optional<JobState> state;
  std::optional<std::string> feed;
  int limit = 50;
  // Only jobs whose id, URL, body or last error contain this text (ASCII letters match
  // either case).
  std::optional<std::string> text;
  // Only jobs with a smaller seq: the next page of a newest-first listing.
  std::optional<int64_t> before_seq;
};

// The attempts of one feed that started in one minute (epoch ms of the minute's start):
// answered with a 2xx status, or not (another status, a transport error, an interruption).
struct AttemptMinute {
  std::string feed;
  int64_t minute = 0;
  int64_t delivered = 0;
  int64_t failed = 0;
};

// An order key held up by a dead job (WEBHOOK_ORDER_ON_DEAD=block): its later jobs wait
// until an operator requeues or cancels the dead one.
struct BlockedKey {
  std::string feed;
  std::string order_key;
  int64_t blocking_seq = 0;  // the earliest dead job of the key
  std::string blocking_id;
  int64_t dead_since = 0;  // its finished_at
  std::string last_error;
  int64_t waiting = 0;  // pending jobs of the key behind it
};

// One process's last sign of life: `process` is "poller" or "dispatcher".
struct HeartbeatRow {
  std::string process;
  std::string worker;
  int64_t at = 0;
  // When the process said it stopped (a clean exit, mark_stopped); nullopt while it runs, or
  // when it ended without saying so (killed, frozen, cut off).
  std::optional<int64_t> stopped_at = std::nullopt;
};

struct PollRow {
  int64_t id = 0;
  PollRecord record;
};

struct FeedStatus {
  std::string feed;
  std::optional<int64_t> cursor;
  std::optional<PollRow> last_poll;
  std::map<JobState, int64_t> counts;  // every state present, zero included
  std::optional<int64_t> oldest_pending_created_at;
};

struct PruneResult {
  int64_t jobs = 0;
  int64_t attempts = 0;
  int64_t polls = 0;
};

class JobStore {
 public:
  virtual ~JobStore() = default;

  // --- poller ---
  virtual std::optional<int64_t> cursor(std::string_view feed) = 0;
  // Hashes of `feed` recorded at or after `since` (the poll overlap).
  virtual std::unordered_set<std::string> seen_since(std::string_view feed, int64_t since) = 0;
  // Writes jobs, seen hashes, the poll row and the new cursor in one transaction.
  // Returns the poll id, or nullopt when expected_cursor no longer holds. Throws
  // LeaseLostError (nothing written) when lease_epoch is set and no longer held.
  virtual std::optional<int64_t> commit_poll(const PollCommit& commit) = 0;

  // --- poller, stream feeds ---
  // The last stream id a stream feed handled, or nullopt for a new feed.
  virtual std::optional<std::string> stream_cursor(std::string_view feed) = 0;
  // Writes the jobs, the new stream cursor and the connection's counts in one
  // transaction. False (nothing written) when expected_cursor no longer holds;
  // LeaseLostError (nothing written) as for commit_poll.
  virtual bool commit_stream(const StreamCommit& commit) = 0;
  // A new connection row (open); returns its id.
  virtual int64_t open_stream_connection(std::string_view feed, int64_t started_at,
                                         std::string_view from_id) = 0;
  // Marks a connection ended, with the HTTP status it got (if any) and why it ended.
  virtual void close_stream_connection(int64_t id, int64_t ended_at, std::optional<int> http_status,
                                       std::string_view reason) = 0;

  // --- poller, feed leases (one active poller per feed) ---
  // Takes `feed`'s lease for `holder` until now + duration if it is free or expired, or
  // renews it if `holder` holds it and it has not expired. Returns the epoch held: the same
  // as before for a renewal, a greater one for a new tenure (another holder's, or this
  // holder's again after its lease ran out); nullopt when another holder's lease stands.
  // When several try at once exactly one gets it. `now` is the caller's clock, used on
  // SQLite only: PostgreSQL uses the server's, the same for every host.
  virtual std::optional<int64_t> acquire_feed_lease(std::string_view feed, std::string_view holder,
                                                    std::chrono::milliseconds duration,
                                                    int64_t now) = 0;
  // Ends `holder`'s lease of `feed` at `epoch` at once (a standby may take it right away);
  // false when it was no longer held so. `now` as for acquire_feed_lease.
  virtual bool release_feed_lease(std::string_view feed, std::string_view holder, int64_t epoch,
                                  int64_t now) = 0;
  // Every feed's lease row, by feed.
  virtual std::vector<FeedLease> feed_leases() = 0;

  // --- dispatcher ---
  // Up to `max_jobs` pending jobs due at `now`, oldest first, marked running for `worker`
  // until now + lease, each with a fresh lease token. A job with an order key is claimable
  // only when no earlier job (smaller seq) of its feed and key is pending or running, or
  // dead with dead_blocks_key when the job itself has it (both enqueued under `block`): one
  // at a time per key, in enqueue order, a retry keeping its place; other keys and
  // unordered jobs are never held up by it.
  virtual std::vector<ClaimedJob> claim(std::string_view worker, int max_jobs,
                                        std::chrono::milliseconds lease, int64_t now) = 0;
  // Attempt rows and state changes for many outcomes in one transaction.
  virtual RecordResult record_outcomes(std::span<const Outcome> outcomes, int64_t now) = 0;
  // record_outcomes(outcomes) then claim(worker, max_jobs, lease, now) in one transaction:
  // a busy dispatcher pays one commit (one fsync) for both. Nothing is written if it throws.
  virtual RecordAndClaim record_and_claim(std::span<const Outcome> outcomes,
                                          std::string_view worker, int max_jobs,
                                          std::chrono::milliseconds lease, int64_t now) = 0;
  // Running jobs whose lease expired go back to pending (or dead when their attempts are
  // used up), with an attempt recorded as "interrupted". Returns how many.
  virtual int reclaim_expired_leases(int64_t now) = 0;
  // Gives claimed jobs back to pending without charging an attempt (shutdown).
  virtual int release(std::string_view worker, std::span<const std::string> job_ids,
                      int64_t now) = 0;
  // The earliest next_attempt_at of a pending job, if any.
  virtual std::optional<int64_t> next_due_at() = 0;
  // Blocks the calling thread until a claim may find work it would not have found at this
  // store's last claim (another connection committed, or the server signalled new jobs),
  // until `timeout` passes, or until `interrupt_fd` (a descriptor of the caller's, never
  // read here) is readable. True: claim now; false: timed out or interrupted. A zero
  // timeout only looks. How the store learns of new work is its own affair.
  virtual bool wait_for_work(std::chrono::milliseconds timeout, int interrupt_fd) = 0;
  // Liveness rows for health checks: `process` is "poller" or "dispatcher".
  virtual void heartbeat(std::string_view process, std::string_view worker, int64_t now) = 0;
  virtual std::optional<int64_t> last_heartbeat(std::string_view process) = 0;
  // `worker` exits cleanly at `now`: its heartbeat row says it stopped (stopped_at), so the
  // others count it gone at once rather than after the liveness bound. Its next heartbeat (a
  // restart under the same name) clears the mark. No row: nothing to mark.
  virtual void mark_stopped(std::string_view process, std::string_view worker, int64_t now) = 0;

  // --- operator (webhookctl) ---
  virtual std::vector<FeedStatus> status() = 0;
  virtual std::vector<JobRow> list_jobs(const JobFilter& filter) = 0;
  // `id` is the job's UUID or its seq number (all digits). By UUID it is a scan (the UUID
  // is not indexed, to keep enqueues cheap); by seq a primary-key lookup.
  virtual std::optional<JobDetail> job(std::string_view id) = 0;
  virtual std::vector<PollRow> list_polls(std::optional<std::string> feed, int limit) = 0;
  // Stream connections, newest first.
  virtual std::vector<StreamConnectionRow> list_stream_connections(std::optional<std::string> feed,
                                                                   int limit) = 0;
  // Every stream feed's cursor, by feed.
  virtual std::map<std::string, std::string> stream_cursors() = 0;
  // Attempts started at or after `since`, counted per feed and minute, oldest first. Reads
  // the attempt log (no index by time: the hot path pays for none), so keep `since` recent.
  virtual std::vector<AttemptMinute> attempts_per_minute(int64_t since) = 0;
  // Every heartbeat row, by process then worker.
  virtual std::vector<HeartbeatRow> heartbeats() = 0;
  // Keys blocked by a dead job (see BlockedKey), oldest block first, at most `limit`.
  virtual std::vector<BlockedKey> blocked_keys(std::optional<std::string> feed, int limit) = 0;
  // Dead or cancelled jobs back to pending, due now, attempts reset. Returns how many.
  virtual int requeue(std::span<const std::string> job_ids, int64_t now) = 0;
  virtual int requeue_dead(std::optional<std::string> feed, int64_t now) = 0;
  // Pending or dead jobs to cancelled (a dead one so that the key it blocks goes on).
  // Returns how many.
  virtual int cancel(std::span<const std::string> job_ids, int64_t now) = 0;
  // Deletes finished jobs (delivered, dead, cancelled, superseded) finished before `before`, with
  // their attempts, and polls older than that, in transactions of at most `batch` jobs.
  virtual PruneResult prune(int64_t before, int batch) = 0;
  // Moves a feed's cursor to `to` and forgets its seen hashes from `to` on, so the window
  // is asked again and re-enqueued.
  virtual void rewind(std::string_view feed, int64_t to) = 0;
  // Moves a stream feed's cursor to the stream id `to` ("<ms>-<seq>", 1-64 bytes) at `now`:
  // its poller's batches read before are refused (their expected cursor is gone), it
  // reconnects from `to` and enqueues the events after it again. False, nothing written,
  // when `feed` has no stream cursor (not a stream feed, or one that never streamed).
  virtual bool rewind_stream(std::string_view feed, std::string_view to, int64_t now) = 0;
};

// A new job id, the one generator of them: a UUIDv7 (RFC 9562) from `now_ms` and 74 bits
// from OpenSSL's generator, so ids made later sort later (a B-tree on a server appends) and
// receivers get an unguessable idempotency key. Thread-safe. Throws std::runtime_error if
// the generator fails.
std::string make_job_id(int64_t now_ms);
// The same from the system clock: an id's time is the machine's, never a test's clock.
std::string make_job_id();

}  // namespace webhook::store
