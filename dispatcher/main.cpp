// webhook-dispatcher: delivers the jobs in the SQLite file to their receivers.
// Options, configuration, logging, storage, signals, then the dispatch loop.
#include <malloc.h>

#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/config.h"
#include "common/logging.h"
#include "common/sd_notify.h"
#include "common/shutdown_signal.h"
#include "common/store/job_store.h"
#include "common/store/open_store.h"
#include "common/store_config.h"
#include "common/watchdog_pinger.h"
#include "dispatcher/curl_handles.h"
#include "dispatcher/dispatch_loop.h"
#include "dispatcher/dispatcher_settings.h"
#include "dispatcher/metrics_service.h"
#include "dispatcher/stop_source.h"

namespace {

constexpr std::string_view kUsage =
    "usage: webhook-dispatcher [--config FILE] [--once]\n"
    "  --config FILE  read settings from FILE (default: config.yml if present)\n"
    "  --once         deliver every job due now, wait for the answers, exit\n";

struct Options {
  std::optional<std::string> config_file;
  bool once = false;
};

// Returns nullopt after printing usage (exit 2) for an unknown argument.
std::optional<Options> parse_options(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--once") {
      options.once = true;
    } else if (arg == "--config" && i + 1 < argc) {
      options.config_file = argv[++i];
    } else if (arg.rfind("--config=", 0) == 0) {
      options.config_file = std::string(arg.substr(9));
    } else {
      std::cerr << "webhook-dispatcher: unknown argument '" << arg << "'\n" << kUsage;
      return std::nullopt;
    }
  }
  return options;
}

// Tells the service manager (systemd, Type=notify) that the loop is alive and when it stops.
class ServiceManagerListener : public webhook::dispatcher::DispatchListener {
 public:
  explicit ServiceManagerListener(const webhook::SdNotifier& notifier)
      : notifier_(notifier), pinger_(notifier) {}
  std::optional<int64_t> on_turn(int64_t now) override { return pinger_.tick(now); }
  void on_stopping() override { notifier_.stopping(); }

 private:
  const webhook::SdNotifier& notifier_;
  webhook::WatchdogPinger pinger_;
};

}  // namespace

int main(int argc, char** argv) {
  using namespace webhook;
  // Requests allocate and free a little each; keep freed memory instead of handing it back
  // to the kernel (and asking again) thousands of times a second.
  mallopt(M_TRIM_THRESHOLD, 8 << 20);
  mallopt(M_TOP_PAD, 1 << 20);
  store::configure_store_process();
  std::optional<Options> options = parse_options(argc, argv);
  if (!options) return 2;

  std::optional<Config> config;
  try {
    config =
        Config::load(kDispatcher, process_environment(),
                     options->config_file.value_or("config.yml"), options->config_file.has_value());
  } catch (const ConfigError& error) {
    for (const auto& problem : error.problems()) std::cerr << problem << "\n";
    return 2;
  }

  const store::StoreOptions storage = store_options_from_config(*config);
  try {
    store::check_store_options(storage);
  } catch (const std::invalid_argument& error) {
    std::cerr << error.what() << "\n";
    return 2;
  }

  dispatcher::DispatcherSettings settings =
      dispatcher::dispatcher_settings_from_config(*config, dispatcher::make_worker_name());
  settings.once = options->once;
  if (auto problems = dispatcher::secret_problems(settings); !problems.empty()) {
    for (const auto& problem : problems) std::cerr << problem << "\n";
    return 2;
  }

  setup_logging({config->string("CONNECTOR_LOG_LEVEL"),
                 config->optional_boolean("OPENCTI_JSON_LOGGING").value_or(default_json_logging()),
                 config->string("CONNECTOR_NAME"), "dispatcher"});
  for (const auto& warning : config->warnings()) {
    log_event(spdlog::level::warn, "configuration", {{"warning", warning}});
  }

  try {
    ShutdownSignal shutdown;
    dispatcher::CurlGlobal curl;

    std::unique_ptr<store::JobStore> jobs = store::open_store(storage);
    log_event(spdlog::level::info, "job store open", {{"store", store::describe_store(storage)}});

    SystemClock clock;
    dispatcher::SignalStopSource stop(shutdown);
    const std::string worker = settings.worker;
    dispatcher::DispatchLoop loop(*jobs, clock, std::move(settings), stop);
    const SdNotifier notifier = SdNotifier::from_environment(process_environment());
    ServiceManagerListener service_manager(notifier);
    loop.add_listener(&service_manager);
    std::unique_ptr<dispatcher::MetricsService> metrics =
        dispatcher::MetricsService::start(*config, storage, clock, loop);
    notifier.ready("delivering jobs from " + store::describe_store(storage));
    if (loop.run() != dispatcher::LoopExit::kFinished) return 130;
    // Every request has ended and the loop's store thread is idle: say this dispatcher left,
    // so the fleet's other members take its share of WEBHOOK_CLUSTER_HOST_CONCURRENCY at
    // their next heartbeat instead of after the liveness bound. (A forced exit, requests
    // still in flight, says nothing: its row runs out.)
    try {
      jobs->mark_stopped("dispatcher", worker, clock.now_ms());
    } catch (const std::exception& error) {
      log_event(spdlog::level::warn,
                "cannot mark this dispatcher stopped; the others count it gone when its "
                "heartbeat runs out",
                {{"worker", worker}, {"error", error.what()}});
    }
    return 0;
  } catch (const std::exception& error) {
    log_event(spdlog::level::critical, "webhook-dispatcher cannot run", {{"error", error.what()}});
    return 1;
  }
}
