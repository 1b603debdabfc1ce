// What ordered delivery (WEBHOOK_ORDER_KEY) costs the dispatcher's hot path: claim -> record
// cycles of 100 jobs through the store, for 20,000 jobs without an order key (the reference,
// measured in the same run), with one over 10,000 distinct keys, and with one over 10 keys,
// each on a fresh database. The target is at least 0.8 of the unordered rate with 10,000
// keys. With 10 keys at most 10 jobs are claimable at a time (the claim reads only the
// claimable ones: schema 006's order_waits), so each claim and its commit serve 10 jobs
// instead of 100: that figure is the worst case, printed for what it is.
// Two cycles: the dispatcher's own (record_and_claim: a batch's outcomes recorded and the
// next batch claimed in one transaction, dispatcher/store_worker.cpp), and a claim and a
// record each in a transaction of its own (as a dispatcher with nothing to claim records).
// SQLite always (synchronous=FULL, as deployed); PostgreSQL too with --postgres, on a
// throwaway cluster. Rates are jobs per CPU second of this process and per wall second, and
// on PostgreSQL per CPU second of the server's processes (read from /proc: the server does
// the work there), each beside the unordered run's; medians of interleaved runs (--repeat,
// 5 by default).
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/store/job_store.h"
#include "common/store/open_store.h"
#include "tests/support/postgres_cluster.h"

namespace {

using namespace std::chrono_literals;
using webhook::store::JobStore;

constexpr int kJobs = 20'000;
constexpr int kEnqueueBatch = 1000;
constexpr int kClaimBatch = 100;

double cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// CPU seconds used by the PostgreSQL server whose data directory is `data_dir`: its
// postmaster's own, those of its live processes (the store's backend, the WAL writer...) and
// those of the ones it has reaped (autovacuum workers), from /proc.
double server_cpu_seconds(const std::string& data_dir) {
  std::ifstream pid_file(data_dir + "/postmaster.pid");
  long postmaster = 0;
  if (!(pid_file >> postmaster)) throw std::runtime_error("no postmaster.pid in " + data_dir);
  double ticks = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;  // gone meanwhile
    // pid (comm) state ppid, then fields 5 to 13, then utime stime cutime cstime.
    const auto comm_end = line.rfind(')');
    if (comm_end == std::string::npos) continue;
    std::istringstream fields(line.substr(comm_end + 1));
    std::string state, skipped;
    long ppid = 0;
    fields >> state >> ppid;
    for (int i = 5; i <= 13; ++i) fields >> skipped;
    double utime = 0, stime = 0, cutime = 0, cstime = 0;
    fields >> utime >> stime >> cutime >> cstime;
    const long pid = std::stol(name);
    if (pid == postmaster) ticks += utime + stime + cutime + cstime;
    if (ppid == postmaster) ticks += utime + stime;
  }
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

enum class Cycle { kDispatcher, kSeparate };

struct Rate {
  double per_cpu_s = 0;
  double per_wall_s = 0;
  double per_server_cpu_s = 0;  // 0 without a server
};

// Enqueues kJobs jobs, key i % keys (keys 0: unordered), then claims and records them all.
// `server_data_dir`: the PostgreSQL server's, whose CPU time is measured too; "" for none.
Rate run(JobStore& store, int keys, Cycle cycle, const std::string& server_data_dir) {
  std::optional<int64_t> cursor;
  for (int b = 0; b < kJobs / kEnqueueBatch; ++b) {
    const int64_t now = now_ms();
    webhook::store::PollCommit c;
    c.poll = {"default", now, now, now - 5000, now, kEnqueueBatch, kEnqueueBatch, 0, 0, true, ""};
    c.jobs.resize(kEnqueueBatch);
    for (int i = 0; i < kEnqueueBatch; ++i) {
      const int n = b * kEnqueueBatch + i;
      auto& job = c.jobs[i];
      job.id = webhook::store::make_job_id(now);
      job.url = "https://receiver.example.com/hooks/opencti?entity=" + std::to_string(n);
      if (keys > 0) job.order_key = "indicator--" + std::to_string(n % keys);
    }
    c.new_cursor = now;
    c.expected_cursor = cursor;
    if (!store.commit_poll(c)) throw std::runtime_error("commit_poll refused");
    cursor = now;
  }
  int done = 0;
  std::vector<webhook::store::Outcome> outcomes;
  // The server's figure read first and last, so that reading /proc is in neither the wall
  // nor the CPU time of this process.
  const double server_start = server_data_dir.empty() ? 0 : server_cpu_seconds(server_data_dir);
  const auto start = std::chrono::steady_clock::now();
  const double cpu_start = cpu_seconds();
  auto jobs = store.claim("bench", kClaimBatch, 60s, now_ms());
  while (!jobs.empty()) {
    const int64_t now = now_ms();
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
    if (cycle == Cycle::kDispatcher) {
      auto both = store.record_and_claim(outcomes, "bench", kClaimBatch, 60s, now_ms());
      done += both.recorded.applied;
      jobs = std::move(both.claimed);
    } else {
      done += store.record_outcomes(outcomes, now_ms()).applied;
      jobs = store.claim("bench", kClaimBatch, 60s, now_ms());
    }
  }
  Rate r;
  r.per_cpu_s = done / (cpu_seconds() - cpu_start);
  r.per_wall_s =
      done / std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!server_data_dir.empty()) {
    r.per_server_cpu_s = done / (server_cpu_seconds(server_data_dir) - server_start);
  }
  if (done != kJobs) throw std::runtime_error("cycled " + std::to_string(done) + " jobs");
  return r;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Each run on a fresh database, the runs interleaved `repeat` times (for each cycle: none,
// 10,000 keys, 10 keys; then again) so that a busy machine slows them alike; the medians are
// compared. `server_data_dir` as run()'s.
void report(const char* driver, const std::function<std::unique_ptr<JobStore>()>& fresh,
            const std::vector<Cycle>& cycles, const std::vector<int>& runs, int repeat,
            const std::string& server_data_dir) {
  const bool server = !server_data_dir.empty();
  // [cycle][run]: the rates of each repeat.
  std::vector<std::vector<std::vector<Rate>>> rates(cycles.size(),
                                                    std::vector<std::vector<Rate>>(runs.size()));
  for (int r = 0; r < repeat; ++r) {
    for (std::size_t c = 0; c < cycles.size(); ++c) {
      for (std::size_t i = 0; i < runs.size(); ++i) {
        auto store = fresh();
        rates[c][i].push_back(run(*store, runs[i], cycles[c], server_data_dir));
      }
    }
  }
  std::printf("\n%s: %d jobs, batches of %d, median of %d runs\n", driver, kJobs, kClaimBatch,
              repeat);
  for (std::size_t c = 0; c < cycles.size(); ++c) {
    std::printf("%s\n%-28s %12s %12s %9s %9s",
                cycles[c] == Cycle::kDispatcher
                    ? "the dispatcher's cycle: record and claim in one transaction"
                    : "claim, then record, each in its own transaction",
                "  run", "jobs/cpu-s", "jobs/wall-s", "cpu/none", "wall/none");
    if (server) std::printf(" %14s %9s", "jobs/server-s", "srv/none");
    std::printf("\n");
    const auto median_of = [&](std::size_t i, double Rate::*field) {
      std::vector<double> v;
      for (const Rate& rate : rates[c][i]) v.push_back(rate.*field);
      return median(v);
    };
    for (std::size_t i = 0; i < runs.size(); ++i) {
      const int keys = runs[i];
      const std::string name = keys == 0 ? "  no order key (reference)"
                                         : "  order key, " + std::to_string(keys) + " keys";
      const double cpu = median_of(i, &Rate::per_cpu_s), wall = median_of(i, &Rate::per_wall_s);
      std::printf("%-28s %12.0f %12.0f %8.2fx %8.2fx", name.c_str(), cpu, wall,
                  cpu / median_of(0, &Rate::per_cpu_s), wall / median_of(0, &Rate::per_wall_s));
      if (server) {
        const double srv = median_of(i, &Rate::per_server_cpu_s);
        std::printf(" %14.0f %8.2fx", srv, srv / median_of(0, &Rate::per_server_cpu_s));
      }
      std::printf("\n");
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  webhook::store::configure_store_process();
  namespace fs = std::filesystem;
  bool postgres = false;
  // --keys N: only that run (0: no order key), for a profiler such as callgrind.
  std::vector<int> runs{0, 10'000, 10};
  int repeat = 5;
  std::vector<Cycle> cycles{Cycle::kDispatcher, Cycle::kSeparate};
  // --pg-settings "-c name=value ...": more server settings, e.g. auto_explain's to profile.
  std::string pg_settings;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--postgres") {
      postgres = true;
    } else if (arg == "--keys" && i + 1 < argc) {
      runs = {std::stoi(argv[++i])};
      repeat = 1;
    } else if (arg == "--cycle" && i + 1 < argc) {
      // Only one of them (for callgrind: each run's instructions are then that cycle's).
      const std::string cycle = argv[++i];
      if (cycle != "dispatcher" && cycle != "separate") {
        std::fprintf(stderr, "--cycle: expected dispatcher or separate, got '%s'\n", cycle.c_str());
        return 2;
      }
      cycles = {cycle == "dispatcher" ? Cycle::kDispatcher : Cycle::kSeparate};
    } else if (arg == "--pg-settings" && i + 1 < argc) {
      pg_settings = argv[++i];
    } else if (arg == "--repeat" && i + 1 < argc) {
      repeat = std::max(1, std::stoi(argv[++i]));
    } else {
      std::fprintf(stderr,
                   "usage: order_bench [--postgres [--pg-settings S]] [--keys N] [--cycle "
                   "dispatcher|separate] [--repeat N]\n");
      return 2;
    }
  }
  const fs::path dir =
      fs::temp_directory_path() / ("webhook-order-bench-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  int n = 0;
  report(
      "SQLite (synchronous=FULL)",
      [&] {
        webhook::store::StoreOptions options;
        options.path = (dir / ("order-" + std::to_string(n++) + ".db")).string();
        options.durability = "FULL";
        return webhook::store::open_store(options);
      },
      cycles, runs, repeat, "");
  if (postgres) {
    webhook::testing::PostgresClusterOptions cluster_options;
    cluster_options.settings = pg_settings;
    webhook::testing::PostgresCluster cluster(cluster_options);
    report(
        "PostgreSQL",
        [&] {
          webhook::store::StoreOptions options;
          options.url = cluster.fresh_database();
          return webhook::store::open_store(options);
        },
        cycles, runs, repeat, cluster.data_dir());
  }
  fs::remove_all(dir);
  std::printf(
      "\ntarget: order key over 10,000 keys at >= 0.80x of no order key, in the dispatcher's "
      "cycle (on PostgreSQL in wall time, the server's CPU time beside it)\n");
  return 0;
}
