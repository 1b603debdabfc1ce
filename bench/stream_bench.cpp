// A stream feed's throughput: events/s from a live stream of 100,000 events to committed
// jobs (StreamFeed into a SQLite file, synchronous=FULL, default batches), beside the rate at
// which the same client merely reads and parses the same stream with nothing stored, in the
// same run. Target: at least 0.5 of the reference and at least 20,000 events/s. The stream
// is the tests' fake OpenCTI stream on loopback.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>

#include "common/clock.h"
#include "common/config.h"
#include "common/store/open_store.h"
#include "poller/compiled_feed.h"
#include "poller/stream_client.h"
#include "poller/stream_feed.h"
#include "tests/support/fake_stream.h"

using namespace webhook;
using namespace webhook::poller;
using Steady = std::chrono::steady_clock;

namespace {

// 100,000 by default; a smaller count (the first argument) for a run under callgrind.
int kEvents = 100'000;

class Count final : public StreamHandler {
 public:
  bool on_event(SseEvent&& e) override {
    if (e.type != "connected") ++events;
    return events < kEvents;
  }
  int64_t events = 0;
};

double seconds_since(Steady::time_point start) {
  return std::chrono::duration<double>(Steady::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1) kEvents = std::atoi(argv[1]);
  testing::FakeStreamOptions fo;
  fo.heartbeat = std::chrono::milliseconds(1000);
  testing::FakeStream fake(fo);
  fake.append(kEvents);
  const std::string last = fake.events().back().id;
  std::filesystem::path dir = std::filesystem::temp_directory_path() / "stream_bench";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  Environment env = {{"OPENCTI_URL", fake.url()},
                     {"OPENCTI_TOKEN", fo.token},
                     {"CONNECTOR_LIVE_STREAM_ID", fo.stream_id},
                     {"WEBHOOK_URL", "http://receiver.test/cti"},
                     {"WEBHOOK_DATABASE_PATH", (dir / "bench.db").string()}};
  Config config = Config::load(kPoller, env, std::nullopt);
  std::vector<CompiledFeed> feeds = compile_feeds(config.feeds());
  StreamOptions options = StreamOptions::from_config(config);

  // Reference: the same client reading and parsing the same stream, storing nothing.
  double read_rate = 0;
  {
    StreamClient client(options);
    Count count;
    auto start = Steady::now();
    client.run(fo.stream_id, "0-0", "", count);
    read_rate = static_cast<double>(count.events) / seconds_since(start);
  }

  double store_rate = 0;
  {
    StreamClient client(options);
    store::StoreOptions so;
    so.path = (dir / "bench.db").string();
    so.durability = "FULL";
    auto store = store::open_store(so);
    // The feed's own connection is its committer's while a batch commits: the cursor is
    // watched through another, as an operator would.
    auto watch = store::open_store(so);
    SystemClock clock;
    StreamFeed feed(feeds[0], client, *store, clock, StreamFeedOptions::from_config(config));
    auto start = Steady::now();
    // The cursor is read on the loop's idle turns, every 100 ms at most; the last turn's
    // wait is part of the figure.
    feed.connect_once([&] { return watch->stream_cursor("default") == last; });
    store_rate = kEvents / seconds_since(start);
  }
  std::printf("stream feed, %d events to committed jobs (SQLite, FULL): %.0f events/s\n", kEvents,
              store_rate);
  std::printf("reference, the same client reading and parsing only:       %.0f events/s\n",
              read_rate);
  std::printf("ratio %.2f (target >= 0.5), %s 20000 events/s\n", store_rate / read_rate,
              store_rate >= 20000 ? "at least" : "BELOW");
  std::filesystem::remove_all(dir);
  return 0;
}
