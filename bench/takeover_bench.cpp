// Takeover time of a standby poller (README "Standby pollers"): two real webhook-poller
// processes on one store, the active one SIGKILLed, and the time until the standby holds the
// feed's lease, ROUNDS times (10) on SQLite and on a throwaway PostgreSQL cluster. Printed:
// median, min and max, beside the configured WEBHOOK_POLLER_LEASE (LEASE seconds, 3), which
// is the bound the design promises (a lease row runs two thirds of it, a standby tries every
// third), measured in the same run. The pollers need no OpenCTI to hold leases: OPENCTI_URL
// names a closed port. The killed poller is started again as the next round's standby.
// Usage: takeover_bench (run from the build tree). Prints figures, asserts nothing.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "common/store/job_store.h"
#include "common/store/open_store.h"
#include "tests/support/postgres_cluster.h"

namespace {

using Steady = std::chrono::steady_clock;
using namespace std::chrono_literals;
using webhook::store::StoreOptions;

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::atoi(v) : fallback;
}

pid_t spawn_poller(const std::map<std::string, std::string>& env, const std::string& log) {
  const pid_t pid = fork();
  if (pid == 0) {
    std::vector<std::string> entries;
    for (const auto& [k, v] : env) entries.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (auto& e : entries) envp.push_back(e.data());
    envp.push_back(nullptr);
    FILE* out = std::freopen(log.c_str(), "a", stdout);
    if (out != nullptr) dup2(fileno(stdout), STDERR_FILENO);
    std::string program = WEBHOOK_BINARY_DIR "/poller/webhook-poller";
    char* argv[] = {program.data(), nullptr};
    execve(argv[0], argv, envp.data());
    _exit(127);
  }
  return pid;
}

pid_t holder_pid(webhook::store::JobStore& store) {
  for (const auto& l : store.feed_leases()) {
    if (l.feed == "default")
      return static_cast<pid_t>(std::stol(l.holder.substr(l.holder.rfind(':') + 1)));
  }
  return 0;
}

bool has_heartbeat(webhook::store::JobStore& store, pid_t pid) {
  const std::string suffix = ":" + std::to_string(pid);
  for (const auto& h : store.heartbeats()) {
    if (h.worker.size() > suffix.size() &&
        h.worker.compare(h.worker.size() - suffix.size(), suffix.size(), suffix) == 0) {
      return true;
    }
  }
  return false;
}

template <typename Condition>
bool wait_until(Condition condition, std::chrono::milliseconds timeout) {
  const auto deadline = Steady::now() + timeout;
  while (Steady::now() < deadline) {
    try {
      if (condition()) return true;
    } catch (const std::exception&) {
      // the store not migrated yet: look again
    }
    std::this_thread::sleep_for(2ms);
  }
  return false;
}

// The takeover times, in ms; empty when a round did not finish.
std::vector<double> measure(const char* name, std::map<std::string, std::string> env,
                            const StoreOptions& options, const std::string& dir, int rounds) {
  auto store = webhook::store::open_store(options);
  store->status();  // created and migrated before the pollers start
  const std::string log = dir + "/" + name + "-pollers.log";
  pid_t a = spawn_poller(env, log);
  pid_t b = spawn_poller(env, log);
  std::vector<double> times;
  for (int round = 0; round < rounds; ++round) {
    pid_t active = 0;
    if (!wait_until(
            [&] {
              active = holder_pid(*store);
              return (active == a || active == b) && has_heartbeat(*store, a == active ? b : a);
            },
            60s)) {
      std::fprintf(stderr,
                   "%s: round %d: no poller took the feed, or the standby is not up; see %s\n",
                   name, round, log.c_str());
      break;
    }
    const pid_t standby = active == a ? b : a;
    kill(active, SIGKILL);
    const auto killed = Steady::now();
    waitpid(active, nullptr, 0);
    if (!wait_until([&] { return holder_pid(*store) == standby; }, 60s)) {
      std::fprintf(stderr, "%s: round %d: the standby did not take over\n", name, round);
      break;
    }
    times.push_back(std::chrono::duration<double, std::milli>(Steady::now() - killed).count());
    const pid_t fresh = spawn_poller(env, log);
    (active == a ? a : b) = fresh;
  }
  for (pid_t pid : {a, b}) {
    kill(pid, SIGTERM);
    waitpid(pid, nullptr, 0);
  }
  return times;
}

void print(const char* name, std::vector<double> times, int lease_s) {
  if (times.empty()) {
    std::printf("%-10s  no figures (see the errors above)\n", name);
    return;
  }
  std::sort(times.begin(), times.end());
  const double median = times.size() % 2 == 1
                            ? times[times.size() / 2]
                            : (times[times.size() / 2 - 1] + times[times.size() / 2]) / 2;
  std::printf("%-10s  rounds %2zu  median %7.0f ms  min %7.0f ms  max %7.0f ms  | lease %d ms\n",
              name, times.size(), median, times.front(), times.back(), lease_s * 1000);
}

}  // namespace

int main() {
  const int rounds = env_int("ROUNDS", 10);
  const int lease = env_int("LEASE", 3);
  char pattern[] = "/tmp/takeover-bench-XXXXXX";
  const std::string dir = mkdtemp(pattern);
  std::map<std::string, std::string> env{
      {"PATH", "/usr/bin:/bin"},
      {"OPENCTI_URL", "http://127.0.0.1:9"},  // the discard port: nothing listens
      {"OPENCTI_TOKEN", "bench-token"},
      {"WEBHOOK_GRAPHQL_QUERY", "query {{ works {{ id }} }}"},
      {"WEBHOOK_GRAPHQL_RETURNED_DATA_LOCATION", "['data']['works']"},
      {"WEBHOOK_URL", "http://127.0.0.1:9/"},
      {"WEBHOOK_GRAPHQL_POLLING_INTERVAL", "60"},
      {"WEBHOOK_POLLER_LEASE", std::to_string(lease)},
      {"CONNECTOR_LOG_LEVEL", "info"}};
  std::printf("takeover after SIGKILL of the active poller, %d rounds, WEBHOOK_POLLER_LEASE=%d\n",
              rounds, lease);

  auto sqlite_env = env;
  sqlite_env["WEBHOOK_DATABASE_PATH"] = dir + "/webhook.db";
  StoreOptions sqlite;
  sqlite.path = dir + "/webhook.db";
  print("sqlite", measure("sqlite", sqlite_env, sqlite, dir, rounds), lease);

  webhook::testing::PostgresCluster cluster;
  auto pg_env = env;
  StoreOptions postgres;
  postgres.url = cluster.fresh_database();
  pg_env["WEBHOOK_DATABASE_URL"] = postgres.url;
  print("postgresql", measure("postgresql", pg_env, postgres, dir, rounds), lease);
  std::filesystem::remove_all(dir);
  return 0;
}
