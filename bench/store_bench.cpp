// The job store's throughput at synchronous=FULL, next to a bare sqlite3 C-API loop doing the
// same inserts and the same claim/update statements on a minimal table, in the same run:
// enqueueing in commit_poll batches of 1,000, and claim -> record cycles of 100 jobs, each on
// an empty database and with 1,000,000 delivered jobs of history. A claim commits without an
// fsync in both (the store's claims do), outcomes with one. Prints figures and ratios.
// `--turns` runs the dispatcher's turns once, for bench/dispatch_callgrind.sh (see below).
#include <fcntl.h>
#include <sqlite3.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/store/job_store.h"
#include "common/store/open_store.h"

namespace {

using webhook::store::JobStore;
using namespace std::chrono_literals;

int kEnqueueBatches = 200;  // --quick: 50, and no history (for profiling)
constexpr int kEnqueueBatch = 1000;
int kJobs = kEnqueueBatches * kEnqueueBatch;
constexpr int kClaimBatch = 100;
constexpr int kHistory = 1'000'000;
constexpr int64_t kDay = 86'400'000;

std::string url_for(int i) {
  return "https://receiver.example.com/hooks/opencti?work=" + std::to_string(i) +
         "&connector=ImportFileStix";
}

// CPU seconds of this (single-threaded) process: unlike wall time, not inflated when other
// programs share the machine; fsync waits are not in it.
double cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void check(int rc, sqlite3* db, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
    throw std::runtime_error(std::string(what) + ": " + sqlite3_errmsg(db));
  }
}

void exec(sqlite3* db, const std::string& sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    std::string message = error ? error : "?";
    sqlite3_free(error);
    throw std::runtime_error(sql.substr(0, 60) + ": " + message);
  }
}

// Adds 1,000,000 delivered jobs (with one attempt each) created 30 days ago to `path`, in one
// transaction. `jobs_sql`/`attempts_sql` are INSERT … SELECT statements over the CTE `n(i)`.
void add_history(const std::string& path, const std::string& jobs_sql,
                 const std::string& attempts_sql) {
  sqlite3* db = nullptr;
  check(sqlite3_open(path.c_str(), &db), db, "open");
  exec(db, "PRAGMA synchronous = OFF; BEGIN");
  const std::string cte =
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < " +
      std::to_string(kHistory) + ") ";
  exec(db, cte + jobs_sql);
  exec(db, cte + attempts_sql);
  exec(db, "COMMIT; PRAGMA wal_checkpoint(TRUNCATE)");
  sqlite3_close(db);
}

// ---- the store ----

struct Figures {
  double enqueue_per_s = 0;  // wall clock
  double cycle_per_s = 0;
  double enqueue_per_cpu_s = 0;  // per CPU second
  double cycle_per_cpu_s = 0;
};

// A migrated store database, with the history if asked.
void make_store_template(const std::string& path, bool history) {
  const int64_t base = webhook::SystemClock().now_ms();
  {
    webhook::store::StoreOptions options;
    options.path = path;
    webhook::store::open_store(options);
  }
  if (history) {
    const std::string t = std::to_string(base - 30 * kDay);
    add_history(
        path,
        "INSERT INTO jobs (id, feed, poll_id, method, url, headers, state, attempts, max_attempts, "
        "next_attempt_at, created_at, updated_at, finished_at, last_status) SELECT "
        "printf('%08x-%04x-7000-8000-%012x', (" +
            t + " + i / 10) >> 16, (" + t +
            " + i / 10) & 65535, i), 'default', 1, 'GET', "
            "'https://receiver.example.com/hooks/opencti?work=' || i, '{}', 'delivered', 1, 4, " +
            t + " + i, " + t + " + i, " + t + " + i, " + t + " + i + 50, 200 FROM n",
        "INSERT INTO attempts (job_seq, number, started_at, duration_ms, http_status, "
        "response_head, worker) SELECT seq, 1, created_at, 50, 200, 'ok', 'bench' FROM jobs");
  }
}

Figures run_store(const std::string& path, bool seen_hashes) {
  webhook::SystemClock clock;
  webhook::store::StoreOptions options;
  options.path = path;
  options.durability = "FULL";
  auto store = webhook::store::open_store(options);
  Figures f;

  std::optional<int64_t> cursor = store->cursor("default");
  // Only commit_poll is timed: making the jobs is the poller's work, not the store's.
  double wall = 0, cpu = 0;
  for (int b = 0; b < kEnqueueBatches; ++b) {
    int64_t now = clock.now_ms();
    webhook::store::PollCommit commit;
    commit.poll = {"default",     now, now, now - 5000, now, kEnqueueBatch,
                   kEnqueueBatch, 0,   0,   true,       ""};
    commit.jobs.resize(kEnqueueBatch);
    for (int i = 0; i < kEnqueueBatch; ++i) {
      auto& job = commit.jobs[i];
      job.id = webhook::store::make_job_id(now);
      job.url = url_for(b * kEnqueueBatch + i);
      if (seen_hashes) commit.seen_hashes.push_back(job.id.substr(0, 24));
    }
    commit.new_cursor = now;
    commit.expected_cursor = cursor;
    auto start = std::chrono::steady_clock::now();
    double cpu_start = cpu_seconds();
    if (!store->commit_poll(commit)) throw std::runtime_error("commit_poll refused");
    cpu += cpu_seconds() - cpu_start;
    wall += seconds_since(start);
    cursor = now;
  }
  f.enqueue_per_s = kJobs / wall;
  f.enqueue_per_cpu_s = kJobs / cpu;
  if (seen_hashes) return f;  // the cycle is measured without them

  int done = 0;
  std::vector<webhook::store::Outcome> outcomes;
  auto start = std::chrono::steady_clock::now();
  double cpu_start = cpu_seconds();
  for (;;) {
    int64_t now = clock.now_ms();
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
  f.cycle_per_cpu_s = done / (cpu_seconds() - cpu_start);
  if (done != kJobs) throw std::runtime_error("store cycled " + std::to_string(done) + " jobs");
  return f;
}

// ---- the bare sqlite3 loop ----

struct Stmt {
  Stmt(sqlite3* db, const char* sql) : db(db) {
    check(sqlite3_prepare_v2(db, sql, -1, &s, nullptr), db, sql);
  }
  ~Stmt() { sqlite3_finalize(s); }
  sqlite3* db;
  sqlite3_stmt* s = nullptr;
};

// The bare loop's minimal schema, with the history if asked.
void make_bare_template(const std::string& path, bool history) {
  const int64_t base = webhook::SystemClock().now_ms();
  {
    sqlite3* db = nullptr;
    check(sqlite3_open(path.c_str(), &db), db, "open");
    exec(db,
         "PRAGMA journal_mode = WAL;"
         "CREATE TABLE jobs (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, state TEXT NOT NULL, "
         "attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER NOT NULL, "
         "lease_owner TEXT, lease_token INTEGER NOT NULL DEFAULT 0, lease_expires_at INTEGER, "
         "url TEXT NOT NULL, finished_at INTEGER);"
         "CREATE INDEX pending ON jobs (next_attempt_at) WHERE state = 'pending';"
         "CREATE TABLE attempts (job_seq INTEGER NOT NULL, number INTEGER NOT NULL, "
         "started_at INTEGER NOT NULL, duration_ms INTEGER NOT NULL DEFAULT 0, "
         "http_status INTEGER, worker TEXT NOT NULL DEFAULT '');");
    sqlite3_close(db);
  }
  if (history) {
    const std::string t = std::to_string(base - 30 * kDay);
    add_history(path,
                "INSERT INTO jobs (id, state, attempts, next_attempt_at, url) SELECT "
                "printf('%08x-0000-7000-8000-%012x', i, i), 'delivered', 1, " +
                    t + " + i, 'https://receiver.example.com/hooks/opencti?work=' || i FROM n",
                "INSERT INTO attempts (job_seq, number, started_at, http_status) "
                "SELECT seq, 1, next_attempt_at, 200 FROM jobs");
  }
}

Figures run_bare(const std::string& path) {
  webhook::SystemClock clock;
  sqlite3* db = nullptr;
  check(sqlite3_open(path.c_str(), &db), db, "open");
  exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000");
  Figures f;
  {
    Stmt insert(db,
                "INSERT INTO jobs (id, state, next_attempt_at, url) VALUES (?, 'pending', ?, ?)");
    double wall = 0, cpu = 0;
    std::vector<std::string> ids(kEnqueueBatch), urls(kEnqueueBatch);
    for (int b = 0; b < kEnqueueBatches; ++b) {
      int64_t now = clock.now_ms();
      for (int i = 0; i < kEnqueueBatch; ++i) {
        ids[i] = webhook::store::make_job_id(now);
        urls[i] = url_for(b * kEnqueueBatch + i);
      }
      auto start = std::chrono::steady_clock::now();
      double cpu_start = cpu_seconds();
      exec(db, "BEGIN IMMEDIATE");
      for (int i = 0; i < kEnqueueBatch; ++i) {
        sqlite3_reset(insert.s);
        sqlite3_bind_text(insert.s, 1, ids[i].c_str(), static_cast<int>(ids[i].size()),
                          SQLITE_TRANSIENT);
        sqlite3_bind_int64(insert.s, 2, now);
        sqlite3_bind_text(insert.s, 3, urls[i].c_str(), static_cast<int>(urls[i].size()),
                          SQLITE_TRANSIENT);
        check(sqlite3_step(insert.s), db, "insert");
      }
      exec(db, "COMMIT");
      cpu += cpu_seconds() - cpu_start;
      wall += seconds_since(start);
    }
    f.enqueue_per_s = kJobs / wall;
    f.enqueue_per_cpu_s = kJobs / cpu;
  }
  {
    Stmt claim(db,
               "UPDATE jobs SET state = 'running', lease_owner = ?1, lease_expires_at = ?2, "
               "lease_token = lease_token + 1 WHERE seq IN (SELECT seq FROM jobs WHERE "
               "state = 'pending' AND next_attempt_at <= ?3 ORDER BY next_attempt_at, seq "
               "LIMIT ?4) RETURNING seq, lease_token, id, url");
    Stmt finish(db,
                "UPDATE jobs SET state = 'delivered', attempts = attempts + 1, lease_owner = NULL, "
                "lease_expires_at = NULL WHERE seq = ? AND state = 'running' AND lease_token = ?");
    Stmt attempt(db,
                 "INSERT INTO attempts (job_seq, number, started_at, http_status) "
                 "VALUES (?, 1, ?, 200)");
    std::vector<std::pair<int64_t, int64_t>> claimed;
    int done = 0;
    auto start = std::chrono::steady_clock::now();
    double cpu = cpu_seconds();
    for (;;) {
      int64_t now = clock.now_ms();
      claimed.clear();
      // As the store does: the claim commits without an fsync, the outcomes with one.
      exec(db, "PRAGMA synchronous = NORMAL; BEGIN IMMEDIATE");
      sqlite3_reset(claim.s);
      sqlite3_bind_text(claim.s, 1, "bench", -1, SQLITE_STATIC);
      sqlite3_bind_int64(claim.s, 2, now + 60000);
      sqlite3_bind_int64(claim.s, 3, now);
      sqlite3_bind_int(claim.s, 4, kClaimBatch);
      while (sqlite3_step(claim.s) == SQLITE_ROW) {
        claimed.emplace_back(sqlite3_column_int64(claim.s, 0), sqlite3_column_int64(claim.s, 1));
      }
      sqlite3_reset(claim.s);
      exec(db, "COMMIT");
      if (claimed.empty()) break;
      exec(db, "PRAGMA synchronous = FULL; BEGIN IMMEDIATE");
      for (auto [seq, token] : claimed) {
        sqlite3_reset(finish.s);
        sqlite3_bind_int64(finish.s, 1, seq);
        sqlite3_bind_int64(finish.s, 2, token);
        check(sqlite3_step(finish.s), db, "finish");
        done += sqlite3_changes(db);
        sqlite3_reset(attempt.s);
        sqlite3_bind_int64(attempt.s, 1, seq);
        sqlite3_bind_int64(attempt.s, 2, now);
        check(sqlite3_step(attempt.s), db, "attempt");
      }
      exec(db, "COMMIT");
    }
    f.cycle_per_s = done / seconds_since(start);
    f.cycle_per_cpu_s = done / (cpu_seconds() - cpu);
    if (done != kJobs) throw std::runtime_error("bare loop cycled " + std::to_string(done));
  }
  sqlite3_close(db);
  return f;
}

// ---- the dispatcher's turns, for bench/dispatch_callgrind.sh ----
// `store_bench --turns KIND DB JOBS BATCH`: JOBS pending jobs, then turns as the dispatcher's
// store thread takes them: each one transaction at synchronous=FULL that records the previous
// turn's BATCH outcomes (an UPDATE of the job and an INSERT of its attempt each) and claims the
// next BATCH. KIND:
//   store          JobStore::record_and_claim on the real schema: the SQL the dispatcher runs;
//   minimal        the least SQL that does the same (a bare sqlite3 loop) on the minimal
//                  schema above;
//   minimal-schema the same least SQL on the real schema (its indexes, CHECKs, row width and
//                  foreign key), which tells the schema's share from the statements'.
// The script counts the instructions of the turns alone (callgrind's --toggle-collect on
// run_minimal_turns and SqliteLeaseQueue::record_and_claim) and prints them side by side.

// The minimal turns; returns the outcomes recorded. Sets what the real schema's CHECKs ask
// of a running and of a delivered job, and nothing else.
__attribute__((noinline)) int run_minimal_turns(sqlite3* db, int batch) {
  Stmt begin(db, "BEGIN IMMEDIATE");
  Stmt commit(db, "COMMIT");
  // What a request needs of its job: the token to fence with, the id to send and the URL.
  Stmt select(db,
              "SELECT seq, lease_token, id, url FROM jobs WHERE state = 'pending' AND "
              "next_attempt_at <= ?1 ORDER BY next_attempt_at, seq LIMIT ?2");
  Stmt claim(db,
             "UPDATE jobs SET state = 'running', lease_owner = ?1, lease_expires_at = ?2, "
             "lease_token = lease_token + 1 WHERE seq IN (SELECT seq FROM jobs WHERE "
             "state = 'pending' AND next_attempt_at <= ?3 ORDER BY next_attempt_at, seq "
             "LIMIT ?4)");
  Stmt finish(db,
              "UPDATE jobs SET state = 'delivered', attempts = attempts + 1, lease_owner = NULL, "
              "lease_expires_at = NULL, finished_at = ?3 WHERE seq = ?1 AND state = 'running' "
              "AND lease_token = ?2");
  Stmt attempt(db,
               "INSERT INTO attempts (job_seq, number, started_at, duration_ms, http_status, "
               "worker) VALUES (?, 1, ?, 5, 204, 'bench')");
  const auto step = [db](Stmt& s, const char* what) {
    check(sqlite3_step(s.s), db, what);
    sqlite3_reset(s.s);
  };
  webhook::SystemClock clock;
  struct InHand {
    int64_t seq, token;
    std::string id, url;
  };
  std::vector<InHand> in_hand;
  int done = 0;
  for (;;) {
    const int64_t now = clock.now_ms();
    step(begin, "begin");
    for (const InHand& job : in_hand) {
      sqlite3_bind_int64(finish.s, 1, job.seq);
      sqlite3_bind_int64(finish.s, 2, job.token);
      sqlite3_bind_int64(finish.s, 3, now);
      step(finish, "finish");
      done += sqlite3_changes(db);
      sqlite3_bind_int64(attempt.s, 1, job.seq);
      sqlite3_bind_int64(attempt.s, 2, now);
      step(attempt, "attempt");
    }
    in_hand.clear();
    sqlite3_bind_int64(select.s, 1, now);
    sqlite3_bind_int(select.s, 2, batch);
    while (sqlite3_step(select.s) == SQLITE_ROW) {
      in_hand.push_back({sqlite3_column_int64(select.s, 0), sqlite3_column_int64(select.s, 1) + 1,
                         reinterpret_cast<const char*>(sqlite3_column_text(select.s, 2)),
                         reinterpret_cast<const char*>(sqlite3_column_text(select.s, 3))});
    }
    sqlite3_reset(select.s);
    if (!in_hand.empty()) {
      sqlite3_bind_text(claim.s, 1, "bench", -1, SQLITE_STATIC);
      sqlite3_bind_int64(claim.s, 2, now + 60000);
      sqlite3_bind_int64(claim.s, 3, now);
      sqlite3_bind_int(claim.s, 4, batch);
      step(claim, "claim");
    }
    step(commit, "commit");
    if (in_hand.empty()) return done;
  }
}

// JOBS pending jobs in a new store database at `path`, as the poller commits them.
std::unique_ptr<JobStore> store_with_jobs(const std::string& path, int jobs) {
  webhook::store::StoreOptions options;
  options.path = path;
  options.durability = "FULL";
  auto store = webhook::store::open_store(options);
  webhook::store::PollCommit commit;
  const int64_t now = webhook::SystemClock().now_ms();
  commit.poll = {"default", now, now, now, now, jobs, jobs, 0, 0, true, ""};
  commit.jobs.resize(jobs);
  for (int i = 0; i < jobs; ++i) {
    commit.jobs[i].id = webhook::store::make_job_id(now);
    commit.jobs[i].url = url_for(i);
  }
  commit.new_cursor = now;
  if (!store->commit_poll(commit)) throw std::runtime_error("commit_poll refused");
  return store;
}

int minimal_turns(const std::string& path, int jobs, int batch, bool real_schema) {
  if (real_schema) {
    store_with_jobs(path, jobs);
  } else {
    make_bare_template(path, false);
  }
  sqlite3* db = nullptr;
  // As SqliteConnection opens and sets the store's connection.
  check(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr),
        db, "open");
  exec(db,
       "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000; "
       "PRAGMA foreign_keys = ON");
  if (!real_schema) {
    Stmt insert(db,
                "INSERT INTO jobs (id, state, next_attempt_at, url) VALUES (?, 'pending', ?, ?)");
    const int64_t now = webhook::SystemClock().now_ms();
    exec(db, "BEGIN IMMEDIATE");
    for (int i = 0; i < jobs; ++i) {
      const std::string id = webhook::store::make_job_id(now), url = url_for(i);
      sqlite3_bind_text(insert.s, 1, id.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64(insert.s, 2, now);
      sqlite3_bind_text(insert.s, 3, url.c_str(), -1, SQLITE_TRANSIENT);
      check(sqlite3_step(insert.s), db, "insert");
      sqlite3_reset(insert.s);
    }
    exec(db, "COMMIT");
  }
  const int done = run_minimal_turns(db, batch);
  sqlite3_close(db);
  return done;
}

int store_turns(const std::string& path, int jobs, int batch) {
  auto store = store_with_jobs(path, jobs);
  webhook::SystemClock clock;
  // The outcomes the dispatcher would make of each claimed job.
  std::vector<webhook::store::Outcome> outcomes;
  int done = 0;
  for (;;) {
    const int64_t now = clock.now_ms();
    auto turn = store->record_and_claim(outcomes, "bench", batch, 60s, now);
    done += turn.recorded.applied;
    if (turn.claimed.empty()) return done;
    outcomes.clear();
    for (const auto& j : turn.claimed) {
      webhook::store::Outcome& o = outcomes.emplace_back();
      o.job_id = j.id;
      o.lease_token = j.lease_token;
      o.attempt_number = j.attempt_number;
      o.worker = "bench";
      o.started_at = now;
      o.duration_ms = 5;
      o.http_status = 204;
    }
  }
}

int turns_main(int argc, char** argv) {
  const std::string kind = argc == 6 ? argv[2] : "";
  if (kind != "store" && kind != "minimal" && kind != "minimal-schema") {
    std::fprintf(stderr, "usage: store_bench --turns store|minimal|minimal-schema DB JOBS BATCH\n");
    return 2;
  }
  const std::string path = argv[3];
  const int jobs = std::stoi(argv[4]), batch = std::stoi(argv[5]);
  const int done = kind == "store" ? store_turns(path, jobs, batch)
                                   : minimal_turns(path, jobs, batch, kind == "minimal-schema");
  std::printf("%d outcomes recorded in turns of %d\n", done, batch);
  return done == jobs ? 0 : 1;
}

// A fresh copy of a template database for one measured run.
std::string fresh_copy(const std::filesystem::path& dir, const std::string& from) {
  namespace fs = std::filesystem;
  fs::path to = dir / "run.db";
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(to.string() + suffix);
  fs::copy_file(from, to);
  // Write the copy out now: otherwise the kernel flushes hundreds of megabytes of a history
  // copy during the measured run, and its fsyncs wait for that instead of for the store.
  int fd = ::open(to.c_str(), O_RDONLY);
  if (fd < 0 || ::fsync(fd) != 0) throw std::runtime_error("cannot fsync " + to.string());
  ::close(fd);
  // And everything else the file system still owes (the previous copy's removal, say), which
  // the run's first fsyncs would otherwise wait for.
  ::sync();
  return to.string();
}

// The best of several runs, field by field.
Figures best_of(const std::vector<Figures>& runs) {
  Figures best;
  for (const Figures& f : runs) {
    best.enqueue_per_s = std::max(best.enqueue_per_s, f.enqueue_per_s);
    best.cycle_per_s = std::max(best.cycle_per_s, f.cycle_per_s);
    best.enqueue_per_cpu_s = std::max(best.enqueue_per_cpu_s, f.enqueue_per_cpu_s);
    best.cycle_per_cpu_s = std::max(best.cycle_per_cpu_s, f.cycle_per_cpu_s);
  }
  return best;
}

// The median over rounds of a / b, each pair measured in the same round: runs seconds apart
// share the machine's slow and fast phases, which best-of figures from different rounds
// do not.
double median_ratio(const std::vector<Figures>& a, const std::vector<Figures>& b,
                    const std::function<double(const Figures&)>& field) {
  std::vector<double> ratios;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) ratios.push_back(field(a[i]) / field(b[i]));
  if (ratios.empty()) return 0;
  std::sort(ratios.begin(), ratios.end());
  const size_t n = ratios.size();
  return n % 2 ? ratios[n / 2] : (ratios[n / 2 - 1] + ratios[n / 2]) / 2;
}

void print_row(const std::string& name, double store, double bare, double paired) {
  std::printf("%-40s %12.0f %12.0f %7.2f %7.2f\n", name.c_str(), store, bare, store / bare, paired);
}

}  // namespace

int main(int argc, char** argv) {
  // As the programs do; process-wide, so the bare loop runs with it too.
  webhook::store::configure_store_process();
  if (argc > 1 && std::string(argv[1]) == "--turns") return turns_main(argc, argv);
  namespace fs = std::filesystem;
  bool quick = argc > 1 && std::string(argv[1]) == "--quick";
  if (quick) kEnqueueBatches = 50;
  kJobs = kEnqueueBatches * kEnqueueBatch;
  const int rounds = quick ? 1 : 5;
  const int variants = quick ? 1 : 2;  // empty, +1M history
  const fs::path dir = fs::temp_directory_path() / "webhook-store-bench";
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::printf(
      "job store vs bare sqlite3 loop, synchronous=FULL, %d jobs per run, %d interleaved "
      "rounds\n",
      kJobs, rounds);
  std::printf("(enqueue: commit_poll batches of %d; cycle: claim %d -> record_outcomes %d)\n",
              kEnqueueBatch, kClaimBatch, kClaimBatch);
  std::printf(
      "(the bare loop inserts one row per prepared statement, as a lean loop does; commit_poll "
      "inserts 64 rows per statement)\n");
  std::printf(
      "(in both, a claim commits without an fsync, as the store's claim does: losing it only "
      "puts its jobs back; outcomes commit with one)\n");
  std::string store_template[2], bare_template[2];
  for (int h = 0; h < variants; ++h) {
    auto start = std::chrono::steady_clock::now();
    store_template[h] = (dir / ("store" + std::to_string(h) + ".db")).string();
    bare_template[h] = (dir / ("bare" + std::to_string(h) + ".db")).string();
    make_store_template(store_template[h], h == 1);
    make_bare_template(bare_template[h], h == 1);
    if (h == 1)
      std::printf("(1M jobs of history made in %.1f s per database pair)\n", seconds_since(start));
  }
  std::vector<Figures> store[2], bare[2], seen[2];  // one per round
  for (int round = 0; round < rounds; ++round) {
    for (int h = 0; h < variants; ++h) {
      if (!std::getenv("STORE_BENCH_SKIP_BARE")) {  // for profiling the store alone
        bare[h].push_back(run_bare(fresh_copy(dir, bare_template[h])));
      }
      store[h].push_back(run_store(fresh_copy(dir, store_template[h]), false));
      seen[h].push_back(run_store(fresh_copy(dir, store_template[h]), true));
    }
  }
  fs::remove_all(dir);
  std::printf(
      "(ratio: best store / best bare; paired: the median over rounds of store / bare in the "
      "same round)\n");
  const char* names[2] = {"", ", 1M history"};
  for (bool per_cpu : {false, true}) {
    std::printf("\n%-40s %12s %12s %7s %7s\n",
                per_cpu ? "jobs per CPU second" : "jobs per second (wall clock)", "store", "bare",
                "ratio", "paired");
    std::function<double(const Figures&)> enq = [&](const Figures& f) {
      return per_cpu ? f.enqueue_per_cpu_s : f.enqueue_per_s;
    };
    std::function<double(const Figures&)> cyc = [&](const Figures& f) {
      return per_cpu ? f.cycle_per_cpu_s : f.cycle_per_s;
    };
    for (int h = 0; h < variants; ++h) {
      const Figures best_store = best_of(store[h]), best_bare = best_of(bare[h]);
      print_row(std::string("enqueue") + names[h], enq(best_store), enq(best_bare),
                median_ratio(store[h], bare[h], enq));
      print_row(std::string("enqueue with seen hashes") + names[h], enq(best_of(seen[h])),
                enq(best_bare), median_ratio(seen[h], bare[h], enq));
      print_row(std::string("claim -> record") + names[h], cyc(best_store), cyc(best_bare),
                median_ratio(store[h], bare[h], cyc));
    }
    if (variants == 2) {
      auto change = [](const std::vector<Figures>* runs, const auto& field) {
        return 100.0 * (field(best_of(runs[1])) / field(best_of(runs[0])) - 1);
      };
      auto paired = [](const std::vector<Figures>* runs, const auto& field) {
        return 100.0 * (median_ratio(runs[1], runs[0], field) - 1);
      };
      std::printf(
          "with 1M history vs empty (best; paired): store enqueue %+.1f%%; %+.1f%%, cycle "
          "%+.1f%%; %+.1f%%\n",
          change(store, enq), paired(store, enq), change(store, cyc), paired(store, cyc));
      std::printf(
          "                                          bare enqueue %+.1f%%; %+.1f%%, cycle "
          "%+.1f%%; %+.1f%%\n",
          change(bare, enq), paired(bare, enq), change(bare, cyc), paired(bare, cyc));
    }
  }
  return 0;
}
