#include "common/store/postgres/postgres_lease_queue.h"

#include <algorithm>
#include <utility>

#include "common/logging.h"
#include "common/store/postgres/postgres_channel.h"
#include "common/store/postgres/postgres_order_lock.h"
#include "common/store/row_helpers.h"

namespace webhook::store {
namespace {

using std::chrono::milliseconds;

// A job the claim may take: pending, and not waiting behind an earlier job of its order key
// (`order_waits`, kept by the triggers of schema/postgres/006_order_heads.sql and, for the
// dispatcher's own changes, by WEBHOOK_MOVE_HEADS below). The predicate
// of the partial index jobs_claimable_due, so both queries read only that index.
#define WEBHOOK_CLAIMABLE "state = 'pending' AND order_waits = 0"

// One statement: lease up to $4 due jobs, oldest first, skipping rows another transaction
// holds (another claim, or an outcome that is moving its key's head).
constexpr const char* kClaimSql =
    "WITH due AS (SELECT seq FROM jobs WHERE " WEBHOOK_CLAIMABLE
    " AND next_attempt_at <= $3 "
    "ORDER BY next_attempt_at, seq LIMIT $4 FOR UPDATE SKIP LOCKED) "
    "UPDATE jobs AS j SET state = 'running', lease_owner = $1, lease_expires_at = $2, "
    "lease_token = (j.seq << 20) | ((j.lease_token + 1) & 1048575), updated_at = $3 "
    "FROM due WHERE j.seq = due.seq "
    "RETURNING j.seq, j.id, j.feed, j.method, j.url, j.headers, j.body, j.attempts, "
    "j.max_attempts, j.created_at, j.lease_token, j.attempt_seq, j.next_attempt_at, "
    "j.order_key IS NOT NULL";

// A job the claim could take: one waiting for an earlier job of its key is not due.
constexpr const char* kNextDueSql =
    "SELECT next_attempt_at FROM jobs WHERE " WEBHOOK_CLAIMABLE " ORDER BY next_attempt_at LIMIT 1";
#undef WEBHOOK_CLAIMABLE

constexpr std::size_t kMaxClaimedTokens = 1 << 16;

// The head moves of a statement that finishes running jobs, as its further CTEs: its CTE
// `changed` returns each job it changed (seq, feed, order_key, state, dead_blocks_key,
// order_waits, finished_at, as they are now). For each ordered job it finished that was its
// key's head, the key's next unfinished job stops waiting, unless a dead job under `block`
// holds it (the finished one, now dead, among them); a retry (back to pending) frees nothing.
// The trigger jobs_order_changed does this for every other change (see
// schema/postgres/008_outcomes_move_heads.sql), not for these.
// Every CTE reads the statement's snapshot, taken after the order lock was granted shared
// (by the caller, in an earlier statement): the jobs `changed` finished still look unfinished
// to it, hence `ended`; and nothing that starts a head waiting (an enqueue, a requeue,
// another transaction's change of the same key) commits meanwhile, as each takes the lock
// exclusive. A running job whose order_waits is 0 is its key's earliest unfinished job (only
// a requeue makes a job earlier than a running one, and it makes that one wait), so the next
// head is the earliest unfinished job after it: one seek of jobs_order_open past the finished
// one, not past the key's finished history, whose index entries stay until vacuum.
// The one exception to "one running job per key": a job r requeued while a later job h of
// its key runs. Both run, h marked waiting, and two dispatchers may finish them at once under
// the shared lock, neither seeing the other's outcome. r's statement frees h, which its
// snapshot shows unfinished; if h's statement changed h first, `freed` waits for h's row lock
// and READ COMMITTED then rechecks h as committed: hence `finished_at IS NULL`, so a finished
// h is not marked its key's head. But then nobody frees the key's next job: h ended out of
// turn (waiting), so its own statement moved nothing. WEBHOOK_OUT_OF_TURN reports such keys,
// and the store frees their heads after its commit under the lock taken exclusive, which waits
// for the other transaction and so sees both outcomes (free_heads_out_of_turn). In the other
// order (r's `freed` row-locks h first) h's statement waits and rechecks h, whose
// order_waits is then 0: h ends in its turn and its statement frees the next job itself.
#define WEBHOOK_MOVE_HEADS                                                                   \
  "ended AS (SELECT seq, feed, order_key, state, dead_blocks_key, order_waits FROM changed " \
  "WHERE order_key IS NOT NULL AND finished_at IS NOT NULL), "                               \
  "heads AS (SELECT n.seq FROM ended AS e CROSS JOIN LATERAL (SELECT u.seq, u.order_waits, " \
  "u.dead_blocks_key FROM jobs AS u WHERE u.feed = e.feed AND u.order_key = e.order_key "    \
  "AND u.seq > e.seq AND u.order_key IS NOT NULL AND u.finished_at IS NULL "                 \
  "AND u.seq NOT IN (SELECT seq FROM ended) ORDER BY u.seq LIMIT 1) AS n "                   \
  "WHERE e.order_waits = 0 AND n.order_waits = 1 AND (n.dead_blocks_key = 0 "                \
  "OR (NOT EXISTS (SELECT 1 FROM jobs AS d WHERE d.feed = e.feed AND d.order_key = "         \
  "e.order_key AND d.seq < n.seq AND d.order_key IS NOT NULL AND d.dead_blocks_key = 1 AND " \
  "d.state = 'dead') AND NOT EXISTS (SELECT 1 FROM ended AS b WHERE b.feed = e.feed AND "    \
  "b.order_key = e.order_key AND b.seq < n.seq AND b.dead_blocks_key = 1 AND "               \
  "b.state = 'dead')))), "                                                                   \
  "freed AS (UPDATE jobs AS h SET order_waits = 0 FROM heads WHERE h.seq = heads.seq "       \
  "AND h.order_waits = 1 AND h.finished_at IS NULL) "
// The statement's result, after its CTE `written` (the attempts rows it inserted, RETURNING
// 1): one row per key of a job it finished out of turn (still waiting, see above), each with
// the count of attempts written, the number of outcomes applied; or one row with that count
// and NULL feed and key.
#define WEBHOOK_OUT_OF_TURN                                                              \
  "SELECT (SELECT count(*) FROM written), t.feed, t.order_key FROM (VALUES (0)) AS one " \
  "LEFT JOIN (SELECT DISTINCT feed, order_key FROM ended WHERE order_waits = 1) AS t ON true"
#define WEBHOOK_CHANGED_FOR_HEADS \
  "j.feed, j.order_key, j.state, j.dead_blocks_key, j.order_waits, j.finished_at"

// Every outcome of a batch in one statement, as SQLite applies them one by one: fenced by
// the lease token (a stale outcome matches no row), one attempt charged and one attempts row
// written per outcome applied, and the heads of the keys it finished moved. $1 now; then one
// array per field, element i of each being outcome i: $2 kind, $3 token, $4 job id, $5
// worker, $6 http status, $7 error, $8 next_attempt_at (retries), $9 started_at, $10
// duration_ms, $11 response head.
constexpr const char* kRecordSql =
    "WITH o AS (SELECT * FROM unnest($2::text[], $3::bigint[], $4::text[], $5::text[], "
    "$6::integer[], $7::text[], $8::bigint[], $9::bigint[], $10::bigint[], $11::text[]) "
    "AS o (kind, token, id, worker, status, error, next_at, started_at, duration_ms, head)), "
    "changed AS (UPDATE jobs AS j SET attempts = j.attempts + 1, attempt_seq = j.attempt_seq + 1, "
    "state = CASE WHEN o.kind <> 'retry' THEN o.kind "
    "WHEN j.attempts + 1 >= j.max_attempts THEN 'dead' ELSE 'pending' END, "
    "finished_at = CASE WHEN o.kind <> 'retry' OR j.attempts + 1 >= j.max_attempts "
    "THEN $1::bigint END, "
    "next_attempt_at = CASE WHEN o.kind = 'retry' THEN coalesce(o.next_at, j.next_attempt_at) "
    "ELSE j.next_attempt_at END, "
    "lease_owner = NULL, lease_expires_at = NULL, updated_at = $1, last_status = o.status, "
    "last_error = o.error FROM o WHERE j.seq = (o.token >> 20) AND j.id = o.id "
    "AND j.state = 'running' AND j.lease_token = o.token AND j.lease_owner = o.worker "
    "RETURNING j.seq, j.attempt_seq, o.started_at, o.duration_ms, o.status, o.error, o.head, "
    "o.worker, " WEBHOOK_CHANGED_FOR_HEADS "), " WEBHOOK_MOVE_HEADS
    ", written AS (INSERT INTO attempts (job_seq, number, started_at, duration_ms, http_status, "
    "error, response_head, worker) SELECT seq, attempt_seq, started_at, duration_ms, status, "
    "error, head, worker FROM changed RETURNING 1) " WEBHOOK_OUT_OF_TURN;

// Every expired lease in one statement, each job once when several dispatchers take leases
// back at once (SKIP LOCKED): a retry, or dead when its attempts are used up, charged one
// attempt (an attempts row from the claim until now, by the lease's owner), and the heads
// of the keys it finished moved. $1 now, $2 the error.
constexpr const char* kReclaimSql =
    "WITH expired AS (SELECT seq, lease_owner, updated_at FROM jobs "
    "WHERE state = 'running' AND lease_expires_at <= $1 FOR UPDATE SKIP LOCKED), "
    "changed AS (UPDATE jobs AS j SET attempts = j.attempts + 1, attempt_seq = j.attempt_seq + 1, "
    "state = CASE WHEN j.attempts + 1 >= j.max_attempts THEN 'dead' ELSE 'pending' END, "
    "finished_at = CASE WHEN j.attempts + 1 >= j.max_attempts THEN $1::bigint END, "
    "lease_owner = NULL, lease_expires_at = NULL, updated_at = $1, last_error = $2 "
    "FROM expired AS x WHERE j.seq = x.seq AND j.state = 'running' "
    "RETURNING j.seq, j.attempt_seq, x.lease_owner, x.updated_at, " WEBHOOK_CHANGED_FOR_HEADS
    "), " WEBHOOK_MOVE_HEADS
    ", written AS (INSERT INTO attempts (job_seq, number, started_at, duration_ms, http_status, "
    "error, response_head, worker) SELECT seq, attempt_seq, updated_at, "
    "greatest($1 - updated_at, 0), NULL, $2, '', lease_owner FROM changed RETURNING "
    "1) " WEBHOOK_OUT_OF_TURN;
#undef WEBHOOK_CHANGED_FOR_HEADS
#undef WEBHOOK_MOVE_HEADS
#undef WEBHOOK_OUT_OF_TURN

// The heads of keys some job of which ended out of turn (see WEBHOOK_MOVE_HEADS), each freed
// as a trigger frees it: $1 feeds, $2 keys, element i of each being key i.
constexpr const char* kFreeHeadsSql =
    "SELECT webhook_order_free_head(k.feed, k.order_key) "
    "FROM unnest($1::text[], $2::text[]) AS k (feed, order_key)";

const char* kind_text(OutcomeKind kind) {
  switch (kind) {
    case OutcomeKind::kDelivered:
      return "delivered";
    case OutcomeKind::kRetry:
      return "retry";
    case OutcomeKind::kDead:
      return "dead";
  }
  return "dead";
}

std::optional<int64_t> optional_status(const std::optional<int>& status) {
  return status ? std::optional<int64_t>(*status) : std::nullopt;
}

}  // namespace

std::vector<ClaimedJob> PostgresLeaseQueue::claim(std::string_view worker, int max_jobs,
                                                  milliseconds lease, int64_t now) {
  std::vector<ClaimedJob> jobs;
  if (max_jobs <= 0) return jobs;
  // From here on wait_for_work waits for news (or the slow poll) instead of saying look.
  claimed_once_ = true;
  last_claim_ = std::chrono::steady_clock::now();
  ordered_outcome_ = false;
  const int64_t expires_at = now + lease.count();
  PgResult r = connection_.exec_prepared(
      "claiming jobs", "claim", kClaimSql,
      PgParams().add(worker).add(expires_at).add(now).add(static_cast<int64_t>(max_jobs)));
  std::vector<std::pair<std::pair<int64_t, int64_t>, ClaimedJob>> sorted;
  for (int i = 0; i < r.rows(); ++i) {
    ClaimedJob j;
    const int64_t seq = r.int64(i, 0);
    j.id = r.text(i, 1);
    j.feed = r.text(i, 2);
    j.method = r.text(i, 3);
    j.url = r.text(i, 4);
    j.headers = parse_headers(r.text(i, 5));
    j.body = r.text(i, 6);
    j.attempts = r.int64(i, 7);
    j.max_attempts = r.int64(i, 8);
    j.created_at = r.int64(i, 9);
    j.lease_token = r.int64(i, 10);
    j.lease_expires_at = expires_at;
    j.attempt_number = r.int64(i, 11) + 1;
    // Released or taken-back jobs never come back to record_outcomes; forgetting them all
    // at worst makes one batch take the order lock for nothing.
    if (claimed_tokens_.size() >= kMaxClaimedTokens) claimed_tokens_.clear();
    claimed_tokens_[j.lease_token] = r.text(i, 13) == "t";
    sorted.push_back({{r.int64(i, 12), seq}, std::move(j)});
  }
  // RETURNING keeps no order: oldest first, as the claim chose them.
  std::sort(sorted.begin(), sorted.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [key, job] : sorted) jobs.push_back(std::move(job));
  return jobs;
}

RecordResult PostgresLeaseQueue::record_outcomes(std::span<const Outcome> outcomes, int64_t now) {
  RecordResult result = write_outcomes(outcomes, now);
  free_heads_out_of_turn();
  return result;
}

RecordResult PostgresLeaseQueue::write_outcomes(std::span<const Outcome> outcomes, int64_t now) {
  RecordResult result;
  if (outcomes.empty()) return result;
  PgArray kinds, tokens, ids, workers, statuses, errors, next_at, started, durations, heads;
  for (const Outcome& o : outcomes) {
    kinds.add(kind_text(o.kind));
    tokens.add(o.lease_token);
    ids.add(o.job_id);
    workers.add(o.worker);
    statuses.add(optional_status(o.http_status));
    errors.add(o.error);
    next_at.add(o.kind == OutcomeKind::kRetry ? std::optional<int64_t>(o.next_attempt_at)
                                              : std::nullopt);
    started.add(o.started_at);
    durations.add(std::max<int64_t>(o.duration_ms, 0));
    heads.add(o.response_head.size() > kMaxResponseHead
                  ? truncate_utf8(o.response_head, kMaxResponseHead)
                  : o.response_head);
  }
  PgParams params;
  params.add(now)
      .add(kinds.text())
      .add(tokens.text())
      .add(ids.text())
      .add(workers.text())
      .add(statuses.text())
      .add(errors.text())
      .add(next_at.text())
      .add(started.text())
      .add(durations.text())
      .add(heads.text());
  const int total = static_cast<int>(outcomes.size());
  // An outcome of a job of unknown kind (claimed by another connection, or forgotten) is
  // taken as ordered: the lock is what keeps the head moves below right.
  bool ordered = false;
  for (const Outcome& o : outcomes) {
    const auto it = claimed_tokens_.find(o.lease_token);
    if (it == claimed_tokens_.end() || it->second) ordered = true;
  }
  connection_.write("recording outcomes", [&] {
    // Before the statement, so that its snapshot is taken once the lock is granted, and
    // before it row-locks the jobs (see kRecordSql and postgres_order_lock.h).
    if (ordered) lock_order_heads(connection_, false);
    const int applied = applied_noting_out_of_turn(
        connection_.exec_prepared("recording outcomes", "record_outcomes", kRecordSql, params));
    // A job named twice in one batch is changed once: its second outcome is stale.
    if (applied > total) expect_changes(applied, total, "recording outcomes");
    result.applied = applied;
    result.stale = total - applied;
    if (applied > 0) fault("record_outcomes:first_applied");
  });
  // An ordered job's outcome may let the next job of its key go, which no NOTIFY announces.
  if (ordered) ordered_outcome_ = true;
  for (const Outcome& o : outcomes) claimed_tokens_.erase(o.lease_token);
  return result;
}

RecordAndClaim PostgresLeaseQueue::record_and_claim(std::span<const Outcome> outcomes,
                                                    std::string_view worker, int max_jobs,
                                                    milliseconds lease, int64_t now) {
  RecordAndClaim result;
  connection_.write("recording outcomes and claiming jobs", [&] {
    result.recorded = write_outcomes(outcomes, now);
    result.claimed = claim(worker, max_jobs, lease, now);
  });
  free_heads_out_of_turn();
  return result;
}

int PostgresLeaseQueue::reclaim_expired_leases(int64_t now) {
  int reclaimed = 0;
  connection_.write("taking back expired leases", [&] {
    // A job taken back as dead moves its key's head (kReclaimSql): the order lock first, as
    // record_outcomes takes it.
    lock_order_heads(connection_, false);
    reclaimed = applied_noting_out_of_turn(
        connection_.exec_prepared("taking back expired leases", "reclaim", kReclaimSql,
                                  PgParams().add(now).add(kLeaseExpiredError)));
    if (reclaimed > 0) fault("reclaim_expired_leases:taken_back");
    if (reclaimed > 0) notify_new_jobs(connection_);
  });
  free_heads_out_of_turn();
  return reclaimed;
}

int PostgresLeaseQueue::applied_noting_out_of_turn(const PgResult& r) {
  for (int i = 0; i < r.rows(); ++i) {
    if (!r.null(i, 1)) out_of_turn_.insert({r.text(i, 1), r.text(i, 2)});
  }
  return static_cast<int>(r.int64(0, 0));
}

void PostgresLeaseQueue::free_heads_out_of_turn() {
  if (out_of_turn_.empty()) return;
  PgArray feeds, keys;
  for (const auto& [feed, key] : out_of_turn_) {
    feeds.add(feed);
    keys.add(key);
  }
  try {
    connection_.write("freeing the heads of keys finished out of turn", [&] {
      // Exclusive: granted once every dispatcher's transaction that holds it shared (the one
      // that finished the key's head beside ours among them) has committed, and its
      // statement reads the jobs after that.
      lock_order_heads(connection_, true);
      connection_.exec_prepared("freeing the heads of keys finished out of turn", "free_heads",
                                kFreeHeadsSql, PgParams().add(feeds.text()).add(keys.text()));
      notify_new_jobs(connection_);
    });
  } catch (const std::exception& e) {
    // The outcomes are committed: the caller must hear of them, not of this. The keys stay
    // noted and are freed after the next outcome or lease taken back.
    log_event(spdlog::level::warn, "cannot free the heads of keys finished out of turn; will retry",
              {{"keys", static_cast<int64_t>(out_of_turn_.size())}, {"error", e.what()}});
    return;
  }
  out_of_turn_.clear();
  ordered_outcome_ = true;  // a key's next job may go: wait_for_work looks at once
}

int PostgresLeaseQueue::release(std::string_view worker, std::span<const std::string> job_ids,
                                int64_t now) {
  if (job_ids.empty()) return 0;
  int released = 0;
  connection_.write("releasing jobs", [&] {
    released = 0;
    for (const std::string& id : job_ids) {
      int changed = connection_
                        .exec("releasing job " + id,
                              "UPDATE jobs SET state = 'pending', lease_owner = NULL, "
                              "lease_expires_at = NULL, updated_at = $1 WHERE id = $2 AND "
                              "state = 'running' AND lease_owner = $3",
                              PgParams().add(now).add(id).add(worker))
                        .changed();
      if (changed > 1) expect_changes(changed, 1, "releasing job " + id);
      released += changed;
    }
    if (released > 0) notify_new_jobs(connection_);
  });
  return released;
}

std::optional<int64_t> PostgresLeaseQueue::next_due_at() {
  PgResult r = connection_.exec("reading the next due time", kNextDueSql);
  if (r.rows() == 0) return std::nullopt;
  return r.optional_int64(0, 0);
}

bool PostgresLeaseQueue::wait_for_work(milliseconds timeout, int interrupt_fd) {
  // The slow poll: a notification lost with a dropped connection costs this much at most.
  const auto since_claim =
      std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - last_claim_);
  if (!claimed_once_ || since_claim >= slow_poll_ || ordered_outcome_) {
    claimed_once_ = true;
    return true;
  }
  const milliseconds until_poll = slow_poll_ - since_claim;
  if (connection_.wait_for_notification(std::min(timeout, until_poll), interrupt_fd)) {
    return true;
  }
  return timeout >= until_poll && std::chrono::steady_clock::now() - last_claim_ >= slow_poll_;
}

void PostgresLeaseQueue::heartbeat(std::string_view process, std::string_view worker, int64_t now) {
  expect_changes(connection_
                     .exec("recording a heartbeat",
                           "INSERT INTO heartbeats (process, worker, at) VALUES ($1, $2, $3) "
                           "ON CONFLICT (process, worker) DO UPDATE SET at = excluded.at, "
                           "stopped_at = NULL",
                           PgParams().add(process).add(worker).add(now))
                     .changed(),
                 1, "recording a heartbeat");
}

void PostgresLeaseQueue::mark_stopped(std::string_view process, std::string_view worker,
                                      int64_t now) {
  connection_.exec("recording that the " + std::string(process) + " stopped",
                   "UPDATE heartbeats SET stopped_at = greatest($1, at) WHERE process = $2 AND "
                   "worker = $3",
                   PgParams().add(now).add(process).add(worker));
}

std::optional<int64_t> PostgresLeaseQueue::last_heartbeat(std::string_view process) {
  PgResult r =
      connection_.exec("reading heartbeats", "SELECT max(at) FROM heartbeats WHERE process = $1",
                       PgParams().add(process));
  return r.optional_int64(0, 0);
}

}  // namespace webhook::store
