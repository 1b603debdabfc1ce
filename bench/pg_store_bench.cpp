// The PostgreSQL job store's throughput on a throwaway loopback PostgreSQL 15 cluster with the
// server's default durability (fsync=on, synchronous_commit=on), next to a bare libpq loop
// running the same statements on the same migrated schema without the store's code, in the
// same run: enqueueing in commit_poll batches of 1,000, and claim -> record cycles of 100
// jobs. Each round gives both a fresh database; rounds interleave store and bare loop, and
// the paired ratio is the median over rounds. Target: at least 0.6 of the bare loop.
// Single-threaded; the cluster is stopped and removed at exit, also when a run throws.
#include <libpq-fe.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/store/job_store.h"
#include "common/store/open_store.h"
#include "tests/support/postgres_cluster.h"

namespace {

using namespace std::chrono_literals;
using webhook::testing::PostgresCluster;

constexpr int kEnqueueBatch = 1000;
constexpr int kClaimBatch = 100;
int kBatches = 50;  // per run; --quick: 10
int kJobs = kBatches * kEnqueueBatch;

std::string url_for(int i) {
  return "https://receiver.example.com/hooks/opencti?work=" + std::to_string(i) +
         "&connector=ImportFileStix";
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

struct Figures {
  double enqueue_per_s = 0;
  double cycle_per_s = 0;
};

// ---- the store ----

Figures run_store(const std::string& url) {
  webhook::SystemClock clock;
  webhook::store::StoreOptions options;
  options.url = url;
  auto store = webhook::store::open_store(options);
  Figures f;
  std::optional<int64_t> cursor = store->cursor("default");
  double wall = 0;
  for (int b = 0; b < kBatches; ++b) {
    const int64_t now = clock.now_ms();
    webhook::store::PollCommit commit;
    commit.poll = {"default",     now, now, now - 5000, now, kEnqueueBatch,
                   kEnqueueBatch, 0,   0,   true,       ""};
    commit.jobs.resize(kEnqueueBatch);
    for (int i = 0; i < kEnqueueBatch; ++i) {
      commit.jobs[i].id = webhook::store::make_job_id(now);
      commit.jobs[i].url = url_for(b * kEnqueueBatch + i);
    }
    commit.new_cursor = now;
    commit.expected_cursor = cursor;
    auto start = std::chrono::steady_clock::now();
    if (!store->commit_poll(commit)) throw std::runtime_error("commit_poll refused");
    wall += seconds_since(start);
    cursor = now;
  }
  f.enqueue_per_s = kJobs / wall;

  int done = 0;
  std::vector<webhook::store::Outcome> outcomes;
  auto start = std::chrono::steady_clock::now();
  for (;;) {
    const int64_t now = clock.now_ms();
    auto jobs = store->claim("bench", kClaimBatch, 60s, now);
    if (jobs.empty()) break;
    outcomes.clear();
    for (const auto& j : jobs) {
      webhook::store::Outcome o;
      o.job_id = j.id;
      o.lease_token = j.lease_token;
      o.attempt_number = j.attempt_number;
      o.worker = "bench";
      o.started_at = now;
      o.duration_ms = 5;
      o.http_status = 200;
      o.response_head = "ok";
      outcomes.push_back(std::move(o));
    }
    done += store->record_outcomes(outcomes, clock.now_ms()).applied;
  }
  f.cycle_per_s = done / seconds_since(start);
  if (done != kJobs) throw std::runtime_error("store cycled " + std::to_string(done) + " jobs");
  return f;
}

// ---- the bare libpq loop: the store's statements, without its code ----

class Bare {
 public:
  explicit Bare(const std::string& url) : conn_(PQconnectdb(url.c_str())) {
    if (PQstatus(conn_) != CONNECTION_OK) {
      throw std::runtime_error(std::string("bare loop: ") + PQerrorMessage(conn_));
    }
  }
  ~Bare() { PQfinish(conn_); }
  Bare(const Bare&) = delete;
  Bare& operator=(const Bare&) = delete;

  // Runs `sql` with text parameters (nullptr: NULL); returns the result (caller clears).
  PGresult* exec(const std::string& sql, const std::vector<const char*>& values = {}) {
    PGresult* r = PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr,
                               values.data(), nullptr, nullptr, 0);
    const auto status = PQresultStatus(r);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      std::string error = PQerrorMessage(conn_);
      PQclear(r);
      throw std::runtime_error("bare loop: " + sql.substr(0, 60) + ": " + error);
    }
    return r;
  }
  void run(const std::string& sql, const std::vector<const char*>& values = {}) {
    PQclear(exec(sql, values));
  }

 private:
  PGconn* conn_;
};

std::string jobs_insert_sql(int rows) {
  std::string sql =
      "INSERT INTO jobs (id, feed, poll_id, method, url, headers, body, state, max_attempts, "
      "next_attempt_at, created_at, updated_at, finished_at, last_error) VALUES ";
  for (int r = 0; r < rows; ++r) {
    sql += r == 0 ? "(" : ", (";
    for (int c = 0; c < 14; ++c) sql += (c == 0 ? "$" : ", $") + std::to_string(r * 14 + c + 1);
    sql += ")";
  }
  return sql;
}

Figures run_bare(const std::string& url) {
  webhook::SystemClock clock;
  Bare db(url);
  Figures f;
  const std::string insert500 = jobs_insert_sql(500);
  double wall = 0;
  std::vector<std::string> ids(kEnqueueBatch), urls(kEnqueueBatch);
  for (int b = 0; b < kBatches; ++b) {
    const int64_t now = clock.now_ms();
    for (int i = 0; i < kEnqueueBatch; ++i) {
      ids[i] = webhook::store::make_job_id(now);
      urls[i] = url_for(b * kEnqueueBatch + i);
    }
    auto start = std::chrono::steady_clock::now();
    const std::string t = std::to_string(now), from = std::to_string(now - 5000);
    const std::string n = std::to_string(kEnqueueBatch), max = "4";
    db.run("BEGIN");
    db.run("SELECT pg_advisory_xact_lock(hashtextextended('webhook cursor ' || $1, 0))",
           {"default"});
    db.run("SELECT last_poll_time FROM cursors WHERE feed = $1", {"default"});
    PGresult* poll = db.exec(
        "INSERT INTO polls (feed, started_at, finished_at, window_from, window_to, items_found, "
        "jobs_enqueued, duplicates_skipped, render_errors, status, error) VALUES ($1, $2, $3, "
        "$4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        {"default", t.c_str(), t.c_str(), from.c_str(), t.c_str(), n.c_str(), n.c_str(), "0", "0",
         "ok", ""});
    const std::string poll_id = PQgetvalue(poll, 0, 0);
    PQclear(poll);
    for (int first = 0; first < kEnqueueBatch; first += 500) {
      std::vector<const char*> values;
      values.reserve(500 * 14);
      for (int i = first; i < first + 500; ++i) {
        for (const char* v : {ids[i].c_str(), "default", poll_id.c_str(), "GET", urls[i].c_str(),
                              "{}", "", "pending", max.c_str(), t.c_str(), t.c_str(), t.c_str(),
                              static_cast<const char*>(nullptr), ""}) {
          values.push_back(v);
        }
      }
      db.run(insert500, values);
    }
    db.run(
        "INSERT INTO cursors (feed, last_poll_time) VALUES ($1, $2) ON CONFLICT (feed) DO UPDATE "
        "SET last_poll_time = excluded.last_poll_time",
        {"default", t.c_str()});
    db.run("NOTIFY webhook_jobs");
    db.run("COMMIT");
    wall += seconds_since(start);
  }
  f.enqueue_per_s = kJobs / wall;

  // The store's claim and outcome statements, text for text.
  const std::string claim =
      "WITH due AS (SELECT seq FROM jobs WHERE state = 'pending' AND next_attempt_at <= $3 "
      "ORDER BY next_attempt_at, seq LIMIT $4 FOR UPDATE SKIP LOCKED) "
      "UPDATE jobs AS j SET state = 'running', lease_owner = $1, lease_expires_at = $2, "
      "lease_token = (j.seq << 20) | ((j.lease_token + 1) & 1048575), updated_at = $3 "
      "FROM due WHERE j.seq = due.seq "
      "RETURNING j.seq, j.id, j.feed, j.method, j.url, j.headers, j.body, j.attempts, "
      "j.max_attempts, j.created_at, j.lease_token, j.attempt_seq, j.next_attempt_at";
  const std::string record =
      "WITH o AS (SELECT * FROM unnest($2::text[], $3::bigint[], $4::text[], $5::text[], "
      "$6::integer[], $7::text[], $8::bigint[], $9::bigint[], $10::bigint[], $11::text[]) "
      "AS o (kind, token, id, worker, status, error, next_at, started_at, duration_ms, head)), "
      "changed AS (UPDATE jobs AS j SET attempts = j.attempts + 1, attempt_seq = j.attempt_seq + "
      "1, state = CASE WHEN o.kind <> 'retry' THEN o.kind "
      "WHEN j.attempts + 1 >= j.max_attempts THEN 'dead' ELSE 'pending' END, "
      "finished_at = CASE WHEN o.kind <> 'retry' OR j.attempts + 1 >= j.max_attempts "
      "THEN $1::bigint END, "
      "next_attempt_at = CASE WHEN o.kind = 'retry' THEN coalesce(o.next_at, j.next_attempt_at) "
      "ELSE j.next_attempt_at END, "
      "lease_owner = NULL, lease_expires_at = NULL, updated_at = $1, last_status = o.status, "
      "last_error = o.error FROM o WHERE j.seq = (o.token >> 20) AND j.id = o.id "
      "AND j.state = 'running' AND j.lease_token = o.token AND j.lease_owner = o.worker "
      "RETURNING j.seq, j.attempt_seq, o.started_at, o.duration_ms, o.status, o.error, o.head, "
      "o.worker) "
      "INSERT INTO attempts (job_seq, number, started_at, duration_ms, http_status, error, "
      "response_head, worker) SELECT seq, attempt_seq, started_at, duration_ms, status, error, "
      "head, worker FROM changed";
  int done = 0;
  std::vector<std::pair<std::string, std::string>> claimed;  // id, token
  auto start = std::chrono::steady_clock::now();
  for (;;) {
    const std::string now = std::to_string(clock.now_ms());
    const std::string expires = std::to_string(clock.now_ms() + 60000);
    const std::string limit = std::to_string(kClaimBatch);
    PGresult* r = db.exec(claim, {"bench", expires.c_str(), now.c_str(), limit.c_str()});
    claimed.clear();
    for (int i = 0; i < PQntuples(r); ++i)
      claimed.emplace_back(PQgetvalue(r, i, 1), PQgetvalue(r, i, 10));
    PQclear(r);
    if (claimed.empty()) break;
    const std::string recorded = std::to_string(clock.now_ms());
    // One array per field, element i for job i (ids and tokens need no quoting).
    std::string kinds = "{", tokens = "{", ids = "{", workers = "{", statuses = "{", errors = "{",
                next_at = "{", started = "{", durations = "{", heads = "{";
    for (const auto& [id, token] : claimed) {
      const char* sep = kinds.size() > 1 ? "," : "";
      kinds += sep + std::string("delivered");
      tokens += sep + token;
      ids += sep + ("\"" + id + "\"");
      workers += sep + std::string("bench");
      statuses += sep + std::string("200");
      errors += sep + std::string("\"\"");
      next_at += sep + std::string("NULL");
      started += sep + now;
      durations += sep + std::string("5");
      heads += sep + std::string("ok");
    }
    for (std::string* a : {&kinds, &tokens, &ids, &workers, &statuses, &errors, &next_at, &started,
                           &durations, &heads}) {
      *a += "}";
    }
    db.run("BEGIN");
    PGresult* o =
        db.exec(record, {recorded.c_str(), kinds.c_str(), tokens.c_str(), ids.c_str(),
                         workers.c_str(), statuses.c_str(), errors.c_str(), next_at.c_str(),
                         started.c_str(), durations.c_str(), heads.c_str()});
    done += std::atoi(PQcmdTuples(o));
    PQclear(o);
    db.run("COMMIT");
  }
  f.cycle_per_s = done / seconds_since(start);
  if (done != kJobs) throw std::runtime_error("bare loop cycled " + std::to_string(done));
  return f;
}

double median_ratio(const std::vector<Figures>& a, const std::vector<Figures>& b,
                    const std::function<double(const Figures&)>& field) {
  std::vector<double> ratios;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) ratios.push_back(field(a[i]) / field(b[i]));
  std::sort(ratios.begin(), ratios.end());
  const size_t n = ratios.size();
  return n == 0 ? 0 : n % 2 ? ratios[n / 2] : (ratios[n / 2 - 1] + ratios[n / 2]) / 2;
}

double best(const std::vector<Figures>& runs, const std::function<double(const Figures&)>& field) {
  double b = 0;
  for (const Figures& f : runs) b = std::max(b, field(f));
  return b;
}

}  // namespace

int main(int argc, char** argv) {
  webhook::store::configure_store_process();
  const bool quick = argc > 1 && std::string(argv[1]) == "--quick";
  if (quick) kBatches = 10;
  kJobs = kBatches * kEnqueueBatch;
  const int rounds = quick ? 1 : 3;
  try {
    PostgresCluster cluster;  // stopped and removed when main returns or throws
    std::printf(
        "PostgreSQL store vs bare libpq loop, loopback PostgreSQL 15, fsync=on, "
        "synchronous_commit=on, %d jobs per run, %d interleaved rounds\n",
        kJobs, rounds);
    std::printf(
        "(enqueue: commit_poll batches of %d; cycle: claim %d -> record_outcomes %d; the bare "
        "loop sends the store's SQL through PQexecParams on the store's migrated schema)\n",
        kEnqueueBatch, kClaimBatch, kClaimBatch);
    std::vector<Figures> store, bare;
    for (int round = 0; round < rounds; ++round) {
      // A migrated, empty database each: the store migrates it, then the bare loop uses it.
      const std::string bare_url = cluster.fresh_database();
      {
        webhook::store::StoreOptions options;
        options.url = bare_url;
        // The driver migrates at first use.
        webhook::store::open_store(options)->cursor("default");
      }
      bare.push_back(run_bare(bare_url));
      store.push_back(run_store(cluster.fresh_database()));
    }
    std::printf("\n%-28s %12s %12s %7s %7s\n", "jobs per second (wall clock)", "store", "bare",
                "ratio", "paired");
    const std::function<double(const Figures&)> enq = [](const Figures& f) {
      return f.enqueue_per_s;
    };
    const std::function<double(const Figures&)> cyc = [](const Figures& f) {
      return f.cycle_per_s;
    };
    for (const auto& [name, field] :
         {std::pair{"enqueue", enq}, std::pair{"claim -> record", cyc}}) {
      const double s = best(store, field), b = best(bare, field);
      std::printf("%-28s %12.0f %12.0f %7.2f %7.2f\n", name, s, b, s / b,
                  median_ratio(store, bare, field));
    }
    std::printf("(ratio: best store / best bare; paired: median over rounds of store / bare)\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pg_store_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
