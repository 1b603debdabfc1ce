// What a metric update costs on the dispatcher's hot path (one labelled counter and one
// histogram observation per attempt, from several threads), and what a scrape costs.
#include <benchmark/benchmark.h>

#include "common/metrics_registry.h"

namespace {

using webhook::metrics::MetricsRegistry;

MetricsRegistry& registry() {
  static MetricsRegistry r("opencti", "");
  return r;
}

void BM_LabelledCounterInc(benchmark::State& state) {
  auto& family = registry().counter("webhook_attempts_total", "Attempts.",
                                    {"feed", "outcome", "status_class"});
  for (auto _ : state) family.with({"works", "delivered", "2xx"}).inc();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LabelledCounterInc)->ThreadRange(1, 4);

void BM_CachedCounterInc(benchmark::State& state) {
  auto& counter =
      registry()
          .counter("webhook_attempts_total", "Attempts.", {"feed", "outcome", "status_class"})
          .with({"works", "delivered", "2xx"});
  for (auto _ : state) counter.inc();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CachedCounterInc)->ThreadRange(1, 4);

void BM_HistogramObserve(benchmark::State& state) {
  auto& h = registry()
                .histogram("webhook_request_duration_seconds", "Calls.", {"feed"},
                           {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30})
                .with({"works"});
  double v = 0;
  for (auto _ : state) {
    h.observe(v);
    v = v > 20 ? 0 : v + 0.37;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HistogramObserve)->ThreadRange(1, 4);

// A scrape of `range(0)` feeds' worth of the dispatcher's series.
void BM_Render(benchmark::State& state) {
  MetricsRegistry r;
  auto& attempts = r.counter("webhook_attempts_total", "A.", {"feed", "outcome", "status_class"});
  auto& duration = r.histogram("webhook_request_duration_seconds", "D.", {"feed"},
                               {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30});
  for (int f = 0; f < state.range(0); ++f) {
    std::string feed = "feed" + std::to_string(f);
    for (const char* outcome : {"delivered", "retry", "dead"}) {
      for (const char* cls : {"2xx", "4xx", "5xx", "none"})
        attempts.with({feed, outcome, cls}).inc();
    }
    duration.with({feed}).observe(0.1);
  }
  size_t bytes = 0;
  for (auto _ : state) bytes += r.render().size();
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_Render)->Arg(1)->Arg(10)->Arg(100);

}  // namespace

BENCHMARK_MAIN();
