// webhook-poller: polls OpenCTI, renders one request per new item and commits the requests
// with the poll cursor in one transaction. Options, configuration, logging, store, signals,
// loop; see DESIGN.md § The poller.
#include <filesystem>
#include <iostream>
#include <map>

#include "common/config.h"
#include "common/logging.h"
#include "common/sd_notify.h"
#include "common/shutdown_signal.h"
#include "common/store/job_store.h"
#include "common/store/open_store.h"
#include "common/store_config.h"
#include "poller/command_line.h"
#include "poller/compiled_feed.h"
#include "poller/feed_lease_keeper.h"
#include "poller/feed_threads.h"
#include "poller/graphql_client.h"
#include "poller/metrics_service.h"
#include "poller/poll_loop.h"
#include "poller/preview.h"
#include "poller/registration_thread.h"
#include "poller/stream_client.h"
#include "poller/stream_feed.h"
#include "poller/watchdog_listener.h"

using namespace webhook;
using namespace webhook::poller;

int main(int argc, char** argv) {
  store::configure_store_process();
  CommandLine cl;
  try {
    cl = parse_command_line(argc, argv);
  } catch (const std::invalid_argument& e) {
    std::cerr << "webhook-poller: " << e.what() << "\n" << usage();
    return 2;
  }
  if (cl.help) {
    std::cout << usage();
    return 0;
  }

  std::optional<Config> config;
  std::vector<CompiledFeed> feeds;
  GraphqlOptions graphql;
  StreamOptions stream;
  StreamFeedOptions stream_feed;
  std::vector<std::string> template_warnings;
  try {
    config = Config::load(kPoller, process_environment(), cl.config.value_or("config.yml"),
                          cl.config.has_value());
    feeds = compile_feeds(config->feeds(), &template_warnings);
    graphql = GraphqlOptions::from_config(*config);
    stream = StreamOptions::from_config(*config);
    stream_feed = StreamFeedOptions::from_config(*config);
    store::check_store_options(store_options_from_config(*config));
  } catch (const ConfigError& e) {
    for (const auto& problem : e.problems()) std::cerr << problem << "\n";
    return 2;
  } catch (const std::invalid_argument& e) {
    std::cerr << e.what() << "\n";
    return 2;
  }

  setup_logging({config->string("CONNECTOR_LOG_LEVEL"),
                 config->optional_boolean("OPENCTI_JSON_LOGGING").value_or(default_json_logging()),
                 config->string("CONNECTOR_NAME"), "poller"});
  for (const auto& warning : config->warnings()) log_event(spdlog::level::warn, warning, {});
  for (const auto& warning : template_warnings) log_event(spdlog::level::warn, warning, {});

  try {
    ShutdownSignal signal;
    SignalStopToken stop(signal);
    SystemClock clock;
    GraphqlClient client(graphql);
    std::vector<std::unique_ptr<FeedPoller>> pollers;
    // --once, --dry-run and --check-config poll; a stream feed has no poll to run once.
    std::vector<const CompiledFeed*> polled;
    std::vector<const CompiledFeed*> streamed;
    for (const auto& feed : feeds) {
      (feed.config.source == FeedSource::kStream ? streamed : polled).push_back(&feed);
    }
    if ((cl.check_config || cl.dry_run || cl.once) && !streamed.empty()) {
      log_event(spdlog::level::warn,
                "stream feeds are not polled by --once, --dry-run or --check-config",
                {{"stream_feeds", streamed.size()}});
    }
    if (cl.check_config) {
      for (const auto* feed_ptr : polled) {
        const auto& feed = *feed_ptr;
        pollers.push_back(std::make_unique<FeedPoller>(feed, client, nullptr, clock));
      }
      return check_config(client, pollers, std::cout);
    }

    // The version query is for the polls' sake: a poller of stream feeds only needs no
    // GraphQL (unless CONNECTOR_ID registers it), and the stream's own answer says whether
    // OpenCTI is reached.
    if (!polled.empty()) {
      GraphqlResponse about = client.about([&] { return signal.requested(); });
      if (about.ok()) {
        log_event(spdlog::level::info, "OpenCTI reached",
                  {{"url", client.display_url()}, {"version", platform_version(about)}});
      } else {
        log_event(spdlog::level::err, "OpenCTI does not answer yet; polls will retry",
                  {{"url", client.display_url()}, {"error", about.error}});
      }
    }

    // A dry run writes nothing: it reads the cursors only if the database already exists.
    const store::StoreOptions options = store_options_from_config(*config);
    std::unique_ptr<store::JobStore> store;
    if (!cl.dry_run ||
        (!store::is_server_store(options) && std::filesystem::exists(options.path))) {
      store = store::open_store(options);
    }
    for (const auto* feed : polled) {
      pollers.push_back(std::make_unique<FeedPoller>(*feed, client, store.get(), clock));
    }
    if (cl.dry_run) return dry_run(pollers, std::cout, std::cerr);

    if (cl.once) {
      // Under each feed's lease, as a running poller polls: one beside it (a cron job, an
      // operator's try) takes nothing from it and never commits under its feet.
      std::vector<std::string> names;
      for (const auto* feed : polled) names.push_back(feed->config.name);
      FeedLeaseKeeper leases(names, store::open_store(options),
                             config->duration("WEBHOOK_POLLER_LEASE"),
                             FeedLeaseKeeper::process_holder(), clock);
      leases.start();
      while (!leases.wait_tried(std::chrono::milliseconds(100))) {
        if (signal.requested()) return 1;
      }
      const bool ok = PollLoop(std::move(pollers), clock, stop, store.get(), &leases).run_once();
      leases.stop();  // releases what it took: the feed's poller takes it at once
      return ok ? 0 : 1;
    }

    // The service manager's watchdog and the metrics ride on the poll loops as PollListeners.
    const SdNotifier notifier = SdNotifier::from_environment(process_environment());
    WatchdogListener watchdog(notifier);
    std::vector<PollListener*> listeners{&watchdog};
    // One active poller per feed: this process polls the feeds whose lease it holds and
    // stands by for the others (README "Standby pollers").
    std::vector<std::string> feed_names;
    for (const auto& feed : feeds) feed_names.push_back(feed.config.name);
    FeedLeaseKeeper leases(feed_names, store::open_store(options),
                           config->duration("WEBHOOK_POLLER_LEASE"),
                           FeedLeaseKeeper::process_holder(), clock);
    std::unique_ptr<MetricsService> metrics =
        MetricsService::start(*config, options, *store, clock, leases.holder());
    if (metrics) {
      listeners.push_back(&metrics->listener());
      leases.set_observer(
          [listener = &metrics->listener()](const FeedLeaseChange& c) { listener->on_lease(c); });
    }
    log_event(spdlog::level::info, "polling",
              {{"feeds", feeds.size()}, {"store", store::describe_store(options)}});
    notifier.ready("polling " + std::to_string(feeds.size()) + " feed(s) into " +
                   store::describe_store(options));
    // With CONNECTOR_ID, OpenCTI lists the poller among its connectors (its own thread).
    std::optional<RegistrationThread> registration;
    std::map<std::string, std::string> registered_starts;
    if (auto identity = ConnectorIdentity::from_config(*config); identity && !streamed.empty()) {
      // A new stream feed resumes where OpenCTI says this connector left off (a user of the
      // Python stream connector switching), so it neither replays nor skips.
      for (const auto* feed : streamed) {
        if (store->stream_cursor(feed->config.name)) continue;
        for (int attempt = 1; attempt <= 3 && !signal.requested(); ++attempt) {
          std::string error;
          auto from =
              registered_start_from(*identity, client, feed->config.name, streamed.size() == 1,
                                    error, [&] { return signal.requested(); });
          if (from) registered_starts[feed->config.name] = *from;
          if (error.empty()) break;
          log_event(spdlog::level::warn,
                    "cannot read the connector state from OpenCTI; trying again",
                    {{"feed", feed->config.name}, {"attempt", attempt}, {"error", error}});
          if (attempt == 3 || signal.wait_for(std::chrono::seconds(attempt))) break;
        }
      }
    }
    if (auto identity = ConnectorIdentity::from_config(*config)) {
      std::vector<std::string> names;
      for (const auto& feed : feeds) names.push_back(feed.config.name);
      registration.emplace(std::move(*identity), graphql, options, names, clock, signal);
    }
    leases.start();
    bool ok = run_feed_threads(feeds, graphql, stream, stream_feed, registered_starts, options,
                               clock, signal, listeners, &leases);
    leases.stop();  // releases what it holds: a standby takes over at once
    notifier.stopping();
    log_event(spdlog::level::info, "stopped", {});
    return ok ? 0 : 1;
  } catch (const std::exception& e) {
    log_event(spdlog::level::critical, "webhook-poller stops", {{"error", e.what()}});
    return 1;
  }
}
