#include "dispatcher/dispatcher_settings.h"

#include <cctype>

#include <unistd.h>

#include <random>
#include <stdexcept>

#include "dispatcher/webhook_signer.h"

namespace webhook::dispatcher {
namespace {

RetrySettings retry_settings(const FeedConfig& feed) {
  RetrySettings retry;
  retry.interval = feed.retry_interval;
  retry.exponential = feed.retry_backoff == "exponential";
  retry.max_interval = feed.retry_max_interval;
  retry.permanent_statuses = feed.permanent_statuses;
  retry.max_job_age = feed.max_job_age;
  return retry;
}

}  // namespace

const FeedDelivery& DispatcherSettings::feed(std::string_view name) const {
  auto it = feeds.find(name);
  return it == feeds.end() ? fallback : it->second;
}

milliseconds DispatcherSettings::lease() const {
  // curl queues the jobs a host cannot take yet; a queued job waits for at most
  // ceil(concurrency / host_concurrency) - 1 requests ahead of it on the same connection.
  const int64_t rounds = (concurrency + host_concurrency - 1) / host_concurrency;
  return timeout * rounds + lease_margin;
}

DispatcherSettings dispatcher_settings_from_config(const Config& config, std::string worker) {
  DispatcherSettings settings;
  settings.worker = std::move(worker);
  settings.concurrency = static_cast<int>(config.integer("WEBHOOK_CONCURRENCY"));
  settings.host_concurrency = static_cast<int>(config.integer("WEBHOOK_HOST_CONCURRENCY"));
  if (config.is_set("WEBHOOK_CLUSTER_HOST_CONCURRENCY")) {
    settings.cluster_host_concurrency =
        static_cast<int>(config.integer("WEBHOOK_CLUSTER_HOST_CONCURRENCY"));
  }
  settings.heartbeat_every = config.duration("WEBHOOK_DISPATCHER_HEARTBEAT_INTERVAL");
  settings.timeout = config.duration("WEBHOOK_TIMEOUT");
  settings.connect_timeout = config.duration("WEBHOOK_CONNECT_TIMEOUT");
  settings.ssl_verify = config.boolean("WEBHOOK_SSL_VERIFY");
  settings.ca_file = config.string("WEBHOOK_CA_FILE");
  settings.cross_origin_redirects = config.boolean("WEBHOOK_CROSS_ORIGIN_REDIRECTS");
  settings.shutdown_grace = config.duration("WEBHOOK_SHUTDOWN_GRACE");
  settings.retention_days = config.integer("WEBHOOK_HISTORY_RETENTION_DAYS");

  FeedConfig shared;
  shared.retry_interval = config.duration("WEBHOOK_UNSUCCESSFUL_RETRY_INTERVAL");
  shared.retry_backoff = config.string("WEBHOOK_RETRY_BACKOFF");
  shared.retry_max_interval = config.duration("WEBHOOK_RETRY_MAX_INTERVAL");
  shared.permanent_statuses = config.status_list("WEBHOOK_PERMANENT_STATUSES");
  shared.max_job_age = config.optional_duration("WEBHOOK_MAX_JOB_AGE");
  settings.fallback.retry = retry_settings(shared);
  if (config.is_set("WEBHOOK_SECRET")) settings.fallback.secret = config.string("WEBHOOK_SECRET");
  settings.fallback.allowed_hosts = parse_allowed_hosts(config.string("WEBHOOK_ALLOWED_HOSTS"));
  std::string auth_type = config.string("WEBHOOK_AUTH_TYPE");
  for (auto& c : auth_type) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (auth_type.find("TOKEN") != std::string::npos && config.is_set("WEBHOOK_TOKEN")) {
    settings.fallback.auth_header = config.string("WEBHOOK_HEADER");
    settings.fallback.auth_token = config.string("WEBHOOK_TOKEN");
  }

  for (const auto& feed : config.feeds()) {
    settings.feeds[feed.name] = FeedDelivery{retry_settings(feed), feed.secret, feed.allowed_hosts,
                                             feed.auth_header, feed.auth_token};
  }
  return settings;
}

std::vector<std::string> secret_problems(const DispatcherSettings& settings) {
  std::vector<std::string> problems;
  auto check = [&](const std::optional<std::string>& secret, const std::string& where) {
    if (!secret) return;
    try {
      WebhookSigner signer(*secret);
    } catch (const std::invalid_argument& error) {
      problems.push_back(error.what() + where);
    }
  };
  check(settings.fallback.secret, "");
  for (const auto& [name, feed] : settings.feeds) {
    if (feed.secret != settings.fallback.secret) check(feed.secret, " (feed '" + name + "')");
  }
  return problems;
}

std::string make_worker_name() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  std::random_device device;
  char suffix[9];
  std::snprintf(suffix, sizeof suffix, "%08x", static_cast<unsigned>(device()));
  return std::string(host[0] ? host : "dispatcher") + ":" + std::to_string(getpid()) + ":" + suffix;
}

}  // namespace webhook::dispatcher
