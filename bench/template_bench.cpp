// Renders the seed's URL template over a 1,000-item `works` answer, the way the poller does:
// compiled once, the data location applied once, then one rendering per item. Prints
// items/s. The answer comes from $TEMPLATE_BENCH_DATA when set (bench/template_vs_python.sh
// shares it with the Python measurement), else from the same recipe built here. A second
// template does int arithmetic that fits 64 bits (the fast path beside the unbounded ints).
// With $TEMPLATE_BENCH_ITERATIONS set, every benchmark runs exactly that many iterations, so
// `valgrind --tool=callgrind` counts the same work on every run (bench/template_callgrind.sh).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "common/clock.h"
#include "common/template/template.h"

namespace {

using Json = nlohmann::ordered_json;

const char kUrl[] =
    "http://localhost?connector_name={item['node']['connector']['name']}"
    "&messages={item['node']['messages']}";

Json works_answer() {
  if (const char* path = std::getenv("TEMPLATE_BENCH_DATA")) {
    std::ifstream in(path);
    return Json::parse(in);
  }
  const char* names[] = {"ImportFile", "AbuseIPDB", "MITRE ATT&CK", "OpenCTI Datasets"};
  const char* messages[] = {"done", "Import of 42 objects", "it's finished", "Expectation met"};
  Json edges = Json::array();
  for (int i = 0; i < 1000; ++i) {
    Json msgs = Json::array();
    for (int k = 0; k < 1 + i % 3; ++k) msgs.push_back({{"message", messages[(i + k) % 4]}});
    edges.push_back({{"node", {{"connector", {{"name", names[i % 4]}}}, {"messages", msgs}}}});
  }
  return {{"data", {{"works", {{"edges", edges}}}}}};
}

const char kArithmetic[] =
    "http://localhost?n={len(item['node']['messages']) * 1000 + 7}"
    "&h={(len(item['node']['connector']['name']) ** 3 - 5) // 7 % 1000}"
    "&k={-len(item['node']['messages']) * 86400000 // 3}"
    "&f={len(item['node']['messages']) > 1 and len(item['node']['connector']['name']) < 12}";

void render_items(benchmark::State& state, const char* source) {
  Json answer = works_answer();
  auto location = webhook::tmpl::DataLocation::compile("['data']['works']['edges']");
  auto url = webhook::tmpl::Template::compile(source);
  const Json& items = *location.select(answer);
  webhook::ManualClock clock;
  webhook::tmpl::RenderResult result;
  std::size_t bytes = 0;
  for (auto _ : state) {
    for (const Json& item : items) {
      url.render_into(item, clock, result);
      if (!result.ok()) state.SkipWithError(result.error.c_str());
      bytes += result.text.size();
      benchmark::DoNotOptimize(result.text.data());
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * items.size()));
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

void BM_RenderSeedUrl(benchmark::State& state) { render_items(state, kUrl); }
void BM_RenderIntArithmetic(benchmark::State& state) { render_items(state, kArithmetic); }

void BM_CompileSeedUrl(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(webhook::tmpl::Template::compile(kUrl));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

}  // namespace

int main(int argc, char** argv) {
  const char* fixed = std::getenv("TEMPLATE_BENCH_ITERATIONS");
  auto add = [&](const char* name, void (*fn)(benchmark::State&), bool per_item) {
    auto* b = benchmark::RegisterBenchmark(name, fn);
    if (fixed) {
      b->Iterations(std::atoll(fixed));
    } else if (per_item) {
      b->Unit(benchmark::kMillisecond)->MinTime(1.0);
    }
  };
  add("BM_RenderSeedUrl", BM_RenderSeedUrl, true);
  add("BM_RenderIntArithmetic", BM_RenderIntArithmetic, true);
  add("BM_CompileSeedUrl", BM_CompileSeedUrl, false);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
