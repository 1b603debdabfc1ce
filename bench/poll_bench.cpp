// One poll returning 10,000 items: parse the answer, hash and render every item (the
// reference README's first URL template), and commit the jobs, seen hashes, poll row and
// cursor in one SQLite transaction (and, beside it, in one transaction on a throwaway loopback
// PostgreSQL 15 cluster, fsync=on, synchronous_commit=on). Target: at most 100 ms on one core. The
// answer comes from memory (GraphqlEndpoint), so the figure is the poller's own cost, not the
// network's.
#include <benchmark/benchmark.h>

#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/json_reader.h"
#include "common/store/job_store.h"
#include "common/store/open_store.h"
#include "poller/compiled_feed.h"
#include "poller/feed_poller.h"
#include "tests/support/postgres_cluster.h"

namespace {

using Json = nlohmann::ordered_json;
using namespace webhook;
using namespace webhook::poller;

constexpr int kItems = 10'000;

// Answers every query with a fixed text, read on each call as the real client does.
class MemoryEndpoint final : public GraphqlEndpoint {
 public:
  GraphqlResponse execute(std::string_view, const Json&, const CancelFn&) override {
    GraphqlResponse r;
    r.http_status = 200;
    r.document = read_json(answer).value;
    return r;
  }
  std::string answer;
};

std::string make_answer(int round) {
  Json edges = Json::array();
  for (int i = 0; i < kItems; ++i) {
    std::string id = std::to_string(round) + "-" + std::to_string(i);
    edges.push_back({{"node",
                      {{"id", "work-" + id},
                       {"connector", {{"name", "AlienVault import " + std::to_string(i % 7)}}},
                       {"messages", Json::array({{{"message", "imported 24 objects"}},
                                                 {{"message", "run " + id + " done"}}})}}}});
  }
  return Json{{"data", {{"works", {{"edges", std::move(edges)}}}}}}.dump();
}

// range(0): 0 = fetch, parse and render only (no store: the poller's own share),
// 1 = and commit with synchronous=NORMAL, 2 = and commit with synchronous=FULL,
// 3 = and commit on PostgreSQL (a fresh database on the process's one cluster).
void BM_PollOf10000Items(benchmark::State& state) {
  char pattern[] = "/tmp/webhook-poll-bench-XXXXXX";
  std::filesystem::path dir = mkdtemp(pattern);
  FeedConfig feed;
  feed.name = "default";
  feed.graphql_query =
      "{{works(filters:{{mode:and,filters:[{{key:\"completed_time\",operator:gt,values:["
      "\"LAST_POLL_TIME\"]}}],filterGroups:[]}}){{edges{{node{{id connector{{name}}messages{{"
      "message}}}}}}}}}}";
  feed.data_location = "['data']['works']['edges']";
  feed.url =
      "http://localhost?id={item['node']['id']}&connector_name={item['node']['connector']['name']}"
      "&messages={item['node']['messages']}";
  auto compiled = compile_feeds({feed});
  const bool commit = state.range(0) != 0;
  store::StoreOptions options;
  options.path = (dir / "webhook.db").string();
  options.durability = state.range(0) == 2 ? "FULL" : "NORMAL";
  const bool postgres = state.range(0) == 3;
  if (postgres) options.url = webhook::testing::PostgresCluster::shared().fresh_database();
  std::unique_ptr<store::JobStore> store;
  if (commit) store = store::open_store(options);
  ManualClock clock;
  MemoryEndpoint endpoint;
  FeedPoller poller(compiled[0], endpoint, store.get(), clock);
  int round = 0;
  int64_t jobs = 0;
  for (auto _ : state) {
    state.PauseTiming();
    endpoint.answer = make_answer(round++);
    clock.advance(60'000);
    state.ResumeTiming();
    PollResult r = poller.poll({}, commit);
    if (!r.ok() || r.record.jobs_enqueued != kItems) {
      state.SkipWithError(("poll failed: " + r.record.error).c_str());
      break;
    }
    jobs += r.record.jobs_enqueued;
  }
  state.counters["items_per_s"] =
      benchmark::Counter(static_cast<double>(jobs), benchmark::Counter::kIsRate);
  state.SetLabel(postgres ? "render+commit, PostgreSQL fsync=on"
                 : commit ? "render+commit, SQLite synchronous=" + options.durability
                          : "fetch+parse+render only");
  store.reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_PollOf10000Items)
    ->Arg(0)
    ->Arg(1)
    ->Arg(2)
    ->Arg(3)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(10)
    // Shared machines vary a lot from one run to the next: repeat, and show the median and
    // the best next to the mean.
    ->Repetitions(5)
    ->ComputeStatistics("min",
                        [](const std::vector<double>& v) {
                          return *std::min_element(v.begin(), v.end());
                        })
    ->DisplayAggregatesOnly(true);

// The answer's reading alone: range(0) 0 = nlohmann's parser (the reference, which the
// poller used before), 1 = read_json (what it uses: Python's rules, depth-limited).
void BM_ReadAnswerOf10000Items(benchmark::State& state) {
  const std::string answer = make_answer(0);
  const bool ours = state.range(0) != 0;
  for (auto _ : state) {
    Json document = ours ? read_json(answer).value : Json::parse(answer);
    benchmark::DoNotOptimize(document);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * answer.size()));
  state.SetLabel(ours ? "read_json" : "nlohmann::parse (reference)");
}
BENCHMARK(BM_ReadAnswerOf10000Items)
    ->Arg(0)
    ->Arg(1)
    ->Unit(benchmark::kMillisecond)
    ->Repetitions(5)
    ->DisplayAggregatesOnly(true);

}  // namespace

int main(int argc, char** argv) {
  webhook::store::configure_store_process();  // as webhook-poller does
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
