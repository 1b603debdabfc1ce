// Benchmark helper: fills a job database quickly through the real JobStore, the way the
// poller commits jobs. Not a benchmark itself; bench/dispatch_bench.sh calls it.
//
// DB is a SQLite file or a postgresql:// URL (then the PostgreSQL store).
//   enqueue_jobs DB URL_PREFIX COUNT            COUNT GET jobs URL_PREFIX<n>, 10,000 a commit
//   enqueue_jobs DB URL_PREFIX COUNT RATE       one job a commit, RATE commits a second, URL
//                                               URL_PREFIX<commit time ms>/<n> (pickup latency)
#include <chrono>
#include <iostream>
#include <string>
#include <thread>

#include "common/clock.h"
#include "common/store/job_store.h"
#include "common/store/open_store.h"

namespace {

using webhook::store::JobStore;

void commit(JobStore& store, const std::string& prefix, int64_t first, int64_t count, bool stamp,
            int64_t now) {
  webhook::store::PollCommit poll;
  poll.poll.feed = "default";
  poll.poll.started_at = poll.poll.finished_at = poll.poll.window_from = poll.poll.window_to = now;
  poll.poll.items_found = poll.poll.jobs_enqueued = count;
  poll.expected_cursor = store.cursor("default");
  poll.jobs.reserve(static_cast<std::size_t>(count));
  for (int64_t n = first; n < first + count; ++n) {
    webhook::store::NewJob job;
    job.id = webhook::store::make_job_id(now);
    job.url = prefix + (stamp ? std::to_string(now) + "/" : std::string()) + std::to_string(n);
    poll.jobs.push_back(std::move(job));
  }
  if (!store.commit_poll(poll)) throw std::runtime_error("the poll was refused");
}

}  // namespace

int main(int argc, char** argv) {
  webhook::store::configure_store_process();
  if (argc != 4 && argc != 5) {
    std::cerr << "usage: enqueue_jobs DB URL_PREFIX COUNT [RATE]\n";
    return 2;
  }
  webhook::store::StoreOptions options;
  const std::string db = argv[1];
  if (db.starts_with("postgresql://") || db.starts_with("postgres://")) {
    options.url = db;
  } else {
    options.path = db;
  }
  options.durability = "NORMAL";
  const std::string prefix = argv[2];
  const int64_t count = std::stoll(argv[3]);
  webhook::SystemClock clock;
  try {
    auto store = webhook::store::open_store(options);
    if (argc == 4) {
      constexpr int64_t kBatch = 10000;
      for (int64_t first = 0; first < count; first += kBatch) {
        commit(*store, prefix, first, std::min(kBatch, count - first), false, clock.now_ms());
      }
      return 0;
    }
    const auto period = std::chrono::microseconds(static_cast<int64_t>(1e6 / std::stod(argv[4])));
    auto next = std::chrono::steady_clock::now();
    for (int64_t n = 0; n < count; ++n) {
      std::this_thread::sleep_until(next);
      next += period;
      commit(*store, prefix, n, 1, true, clock.now_ms());
    }
  } catch (const std::exception& error) {
    std::cerr << "enqueue_jobs: " << error.what() << "\n";
    return 1;
  }
  return 0;
}
