#include "poller/feed_threads.h"

#include <atomic>
#include <exception>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include "common/logging.h"
#include "poller/poll_loop.h"
#include "poller/stop_token.h"

namespace webhook::poller {

bool run_feed_threads(const std::vector<CompiledFeed>& feeds, const GraphqlOptions& graphql,
                      const StreamOptions& stream, const StreamFeedOptions& stream_feed,
                      const std::map<std::string, std::string>& registered_starts,
                      const store::StoreOptions& database, const Clock& clock,
                      ShutdownSignal& signal, const std::vector<PollListener*>& listeners,
                      FeedLeaseKeeper* leases) {
  struct Worker {
    std::unique_ptr<GraphqlClient> client;
    std::unique_ptr<StreamClient> stream_client;
    std::unique_ptr<store::JobStore> store;
    std::unique_ptr<SignalStopToken> stop;
    std::unique_ptr<PollLoop> loop;
    std::unique_ptr<StreamFeed> stream;
  };
  // Everything is built here, on the main thread (libcurl's global init is not
  // thread-safe); each thread then only uses its own worker.
  std::vector<Worker> workers;
  for (const auto& feed : feeds) {
    Worker w;
    w.store = store::open_store(database);
    w.stop = std::make_unique<SignalStopToken>(signal);
    if (feed.config.source == FeedSource::kStream) {
      w.stream_client = std::make_unique<StreamClient>(stream);
      StreamFeedOptions options = stream_feed;
      if (auto it = registered_starts.find(feed.config.name); it != registered_starts.end()) {
        options.registered_start = it->second;
      }
      w.stream = std::make_unique<StreamFeed>(feed, *w.stream_client, *w.store, clock, options);
      for (auto* listener : listeners) w.stream->add_listener(listener);
      w.stream->set_leases(leases);
      workers.push_back(std::move(w));
      continue;
    }
    w.client = std::make_unique<GraphqlClient>(graphql);
    std::vector<std::unique_ptr<FeedPoller>> pollers;
    pollers.push_back(std::make_unique<FeedPoller>(feed, *w.client, w.store.get(), clock));
    w.loop = std::make_unique<PollLoop>(std::move(pollers), clock, *w.stop, w.store.get(), leases);
    for (auto* listener : listeners) w.loop->add_listener(listener);
    workers.push_back(std::move(w));
  }
  std::atomic<bool> failed{false};
  std::vector<std::thread> threads;
  for (auto& w : workers) {
    threads.emplace_back([&w, &failed, &signal] {
      try {
        if (w.stream) {
          w.stream->run(*w.stop);
        } else {
          w.loop->run();
        }
      } catch (const std::exception& e) {
        log_event(spdlog::level::critical, "a feed's poll loop stopped; stopping the poller",
                  {{"error", e.what()}});
        failed = true;
        signal.request();
      }
    });
  }
  for (auto& t : threads) t.join();
  // Every loop has ended: say so in their heartbeat rows, so that `webhookctl status` says
  // the poller stopped and `webhookctl copy-store` need not wait for the rows to age. (A
  // killed poller says nothing: its rows age out.)
  const int64_t now = clock.now_ms();
  std::set<std::string> marked;  // the polling feeds' loops share one row
  for (auto& w : workers) {
    const std::string& name = w.stream ? w.stream->heartbeat_worker() : w.loop->heartbeat_worker();
    if (!marked.insert(name).second) continue;
    try {
      w.store->mark_stopped("poller", name, now);
    } catch (const std::exception& e) {
      log_event(spdlog::level::warn,
                "cannot mark this poller stopped; its heartbeat row ages out instead",
                {{"worker", name}, {"error", e.what()}});
    }
  }
  return !failed;
}

}  // namespace webhook::poller
