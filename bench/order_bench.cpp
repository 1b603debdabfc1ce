// What ordered delivery (WEBHOOK_ORDER_KEY) costs the dispatcher's hot path: claim -> record
// cycles of 100 jobs through the store, for 20,000 jobs without an order key (the reference,
// measured in the same run), with one over 10,000 distinct keys, and with one over 10 keys,
// each on a fresh database. The target is at least 0.8 of the unordered rate with 10,000
// keys. With 10 keys at most 10 jobs are claimable at a time (the claim reads only the
// claimable ones: schema 006's order_waits), so each claim and its commit serve 10 jobs
// instead of 100: that figure is the worst case, printed for what it is.
// SQLite always (synchronous=FULL, as deployed); PostgreSQL too with --postgres, on a
// throwaway cluster. Rates are jobs per CPU second of this process and per wall second, each
// beside the unordered run's (on PostgreSQL the server does the work, so wall time is the
// figure that counts there), medians of interleaved runs (--repeat, 5 by default).
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
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

struct Rate {
  double per_cpu_s = 0;
  double per_wall_s = 0;
};

// Enqueues kJobs jobs, key i % keys (keys 0: unordered), then claims and records them all.
Rate run(JobStore& store, int keys) {
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
  const auto start = std::chrono::steady_clock::now();
  const double cpu_start = cpu_seconds();
  for (;;) {
    const int64_t now = now_ms();
    auto jobs = store.claim("bench", kClaimBatch, 60s, now);
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
    done += store.record_outcomes(outcomes, now_ms()).applied;
  }
  Rate r;
  r.per_cpu_s = done / (cpu_seconds() - cpu_start);
  r.per_wall_s =
      done / std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (done != kJobs) throw std::runtime_error("cycled " + std::to_string(done) + " jobs");
  return r;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Each run on a fresh database, the runs interleaved `repeat` times (none, 10,000 keys, 10
// keys, none, ...) so that a busy machine slows them alike; the medians are compared.
void report(const char* driver, const std::function<std::unique_ptr<JobStore>()>& fresh,
            const std::vector<int>& runs, int repeat) {
  std::printf("\n%s: claim %d -> record, %d jobs, median of %d runs\n", driver, kClaimBatch, kJobs,
              repeat);
  std::printf("%-28s %14s %14s %10s %10s\n", "run", "jobs/cpu-s", "jobs/wall-s", "cpu/none",
              "wall/none");
  std::vector<std::vector<double>> cpu(runs.size()), wall(runs.size());
  for (int r = 0; r < repeat; ++r) {
    for (std::size_t i = 0; i < runs.size(); ++i) {
      auto store = fresh();
      Rate rate = run(*store, runs[i]);
      cpu[i].push_back(rate.per_cpu_s);
      wall[i].push_back(rate.per_wall_s);
    }
  }
  const double none_cpu = median(cpu[0]), none_wall = median(wall[0]);
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const int keys = runs[i];
    std::string name =
        keys == 0 ? "no order key (reference)" : "order key, " + std::to_string(keys) + " keys";
    std::printf("%-28s %14.0f %14.0f %9.2fx %9.2fx\n", name.c_str(), median(cpu[i]),
                median(wall[i]), median(cpu[i]) / none_cpu, median(wall[i]) / none_wall);
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
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--postgres") {
      postgres = true;
    } else if (arg == "--keys" && i + 1 < argc) {
      runs = {std::stoi(argv[++i])};
      repeat = 1;
    } else if (arg == "--repeat" && i + 1 < argc) {
      repeat = std::max(1, std::stoi(argv[++i]));
    } else {
      std::fprintf(stderr, "usage: order_bench [--postgres] [--keys N] [--repeat N]\n");
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
      runs, repeat);
  if (postgres) {
    webhook::testing::PostgresCluster cluster;
    report(
        "PostgreSQL",
        [&] {
          webhook::store::StoreOptions options;
          options.url = cluster.fresh_database();
          return webhook::store::open_store(options);
        },
        runs, repeat);
  }
  fs::remove_all(dir);
  std::printf(
      "\ntarget: order key over 10,000 keys at >= 0.80x of no order key (PostgreSQL: wall)\n");
  return 0;
}
