// The metrics and health endpoints of the real processes: /metrics scraped during a run
// agrees with the database, names and labels follow Prometheus conventions, no secret shows;
// /healthz and `webhookctl health` turn unhealthy when OpenCTI or the receiver is down long
// enough and healthy again after; a metrics port already taken stops a process at start.
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <regex>

#include "tests/e2e/e2e_system.h"

namespace webhook::e2e {
namespace {

// A TCP socket listening on 127.0.0.1 at an ephemeral port: holds the port for a test that
// needs it taken, or, closed at once, names a port that is free.
class ListeningSocket {
 public:
  ListeningSocket() : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    if (fd_ < 0) throw std::runtime_error("socket() failed");
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&address), length) != 0 || ::listen(fd_, 1) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      ::close(fd_);
      throw std::runtime_error("cannot listen on 127.0.0.1");
    }
    port_ = ntohs(address.sin_port);
  }
  ~ListeningSocket() { ::close(fd_); }
  ListeningSocket(const ListeningSocket&) = delete;
  ListeningSocket& operator=(const ListeningSocket&) = delete;
  int port() const { return port_; }

 private:
  int fd_;
  int port_ = 0;
};

int free_port() { return ListeningSocket().port(); }

struct Answer {
  int status = 0;  // 0: no answer
  std::string body;
};

Answer get(int port, const std::string& path) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(2);
  client.set_read_timeout(5);
  auto res = client.Get(path.c_str());
  if (!res) return {};
  return {res->status, res->body};
}

// Asks /healthz until it answers `status` or the deadline passes; the last answer either way.
Answer healthz_until(int port, int status) {
  Answer answer;
  eventually([&] {
    answer = get(port, "/healthz");
    return answer.status == status;
  });
  return answer;
}

// One sample of the text exposition format.
struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

std::vector<Sample> parse_samples(const std::string& text) {
  static const std::regex kLine(R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$)");
  static const std::regex kLabel(R"(([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\]|\\.)*)\",?)");
  std::vector<Sample> samples;
  std::stringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::smatch m;
    if (!std::regex_match(line, m, kLine)) {
      ADD_FAILURE() << "not a sample line: " << line;
      continue;
    }
    Sample sample{m[1].str(), {}, std::stod(m[4].str())};
    std::string labels = m[3].str();
    for (std::sregex_iterator it(labels.begin(), labels.end(), kLabel), end; it != end; ++it) {
      sample.labels[(*it)[1].str()] = (*it)[2].str();
    }
    samples.push_back(std::move(sample));
  }
  return samples;
}

// The sum of the samples named `name` whose labels include `match`.
double sum(const std::vector<Sample>& samples, const std::string& name,
           const std::map<std::string, std::string>& match = {}) {
  double total = 0;
  for (const auto& s : samples) {
    if (s.name != name) continue;
    bool ok = true;
    for (const auto& [label, value] : match) {
      auto it = s.labels.find(label);
      ok = ok && it != s.labels.end() && it->second == value;
    }
    if (ok) total += s.value;
  }
  return total;
}

bool has(const std::vector<Sample>& samples, const std::string& name) {
  for (const auto& s : samples) {
    if (s.name == name) return true;
  }
  return false;
}

// Prometheus' naming rules and best practices, as checked by `promtool check metrics`:
// valid names, HELP and TYPE for every family, counters ending in `_total` and nothing else
// doing so, durations in `_seconds`, valid label names, histograms whose +Inf bucket is their
// count, every name under the configured namespace.
void expect_prometheus_conventions(const std::string& text, const std::string& prefix) {
  static const std::regex kName("^[a-zA-Z_:][a-zA-Z0-9_:]*$");
  static const std::regex kLabelName("^[a-zA-Z_][a-zA-Z0-9_]*$");
  std::map<std::string, std::string> types;
  std::set<std::string> helped;
  std::stringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::stringstream words(line);
    std::string hash, kind, name, type;
    words >> hash >> kind >> name >> type;
    if (hash != "#") continue;
    if (kind == "HELP") helped.insert(name);
    if (kind == "TYPE") types[name] = type;
  }
  ASSERT_FALSE(types.empty()) << text;
  for (const auto& [name, type] : types) {
    EXPECT_TRUE(std::regex_match(name, kName)) << name;
    EXPECT_EQ(name.rfind(prefix, 0), 0u) << name << " lacks the namespace " << prefix;
    EXPECT_EQ(helped.count(name), 1u) << name << " has no HELP";
    const bool total = name.size() > 6 && name.compare(name.size() - 6, 6, "_total") == 0;
    EXPECT_EQ(total, type == "counter") << name << " is a " << type;
    if (name.find("duration") != std::string::npos || name.find("_age") != std::string::npos ||
        name.find("_lag") != std::string::npos) {
      EXPECT_NE(name.find("_seconds"), std::string::npos) << name << ": base unit is seconds";
    }
    EXPECT_EQ(name.find("milliseconds"), std::string::npos) << name;
    EXPECT_TRUE(type == "counter" || type == "gauge" || type == "histogram") << name;
  }
  for (const auto& sample : parse_samples(text)) {
    std::string family = sample.name;
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      std::string s = suffix;
      if (types.count(family) == 0 && family.size() > s.size() &&
          family.compare(family.size() - s.size(), s.size(), s) == 0 &&
          types.count(family.substr(0, family.size() - s.size())) != 0) {
        family = family.substr(0, family.size() - s.size());
      }
    }
    ASSERT_EQ(types.count(family), 1u) << sample.name << " belongs to no declared family";
    for (const auto& [label, value] : sample.labels) {
      EXPECT_TRUE(std::regex_match(label, kLabelName)) << sample.name << " label " << label;
      EXPECT_NE(label.rfind("__", 0), 0u) << "reserved label " << label;
    }
    if (types[family] == "histogram" && sample.name == family + "_bucket") {
      EXPECT_EQ(sample.labels.count("le"), 1u) << sample.name;
    }
    if (types[family] == "histogram" && sample.name == family + "_count") {
      auto labels = sample.labels;
      labels["le"] = "+Inf";
      EXPECT_EQ(sum(parse_samples(text), family + "_bucket", labels), sample.value) << family;
    }
  }
}

void expect_no_secret(const std::string& text) {
  for (const auto& secret :
       {kToken, kSecret, kSecretBytes, std::string("ZTJlLXdlYmhvb2stc2VjcmV0")}) {
    EXPECT_EQ(text.find(secret), std::string::npos) << "a secret is in the scraped text";
  }
}

testing::CommandResult webhookctl_health(E2eSystem& system, const std::string& process) {
  return testing::run_command(
      {WEBHOOK_BINARY_DIR "/ctl/webhookctl", "health", "--process", process}, system.env());
}

struct MetricsPorts {
  int poller = free_port();
  int dispatcher = free_port();
};

MetricsPorts expose_metrics(E2eSystem& system) {
  MetricsPorts ports;
  system.env()["CONNECTOR_EXPOSE_METRICS"] = "true";
  system.env()["WEBHOOK_METRICS_HOST"] = "127.0.0.1";
  system.env()["CONNECTOR_METRICS_PORT"] = std::to_string(ports.poller);
  system.env()["WEBHOOK_DISPATCHER_METRICS_PORT"] = std::to_string(ports.dispatcher);
  system.env()["CONNECTOR_METRICS_NAMESPACE"] = "opencti";
  return ports;
}

TEST(Metrics, CountersScrapedDuringARunMatchTheDatabase) {
  E2eSystem system;
  MetricsPorts ports = expose_metrics(system);
  system.env()["WEBHOOK_PERMANENT_STATUSES"] = "410";
  // One job dead at once, two retries, then deliveries.
  system.sink().set_default_script(
      Script{{Reply::status_only(410), Reply::status_only(503), Reply::status_only(503)}, Reply{}});
  system.start_poller();
  system.start_dispatcher();
  ASSERT_TRUE(eventually([&] { return system.cursor().has_value(); })) << system.logs();
  constexpr int kRecords = 12;
  for (int i = 0; i < kRecords; ++i) system.schedule().make_one();
  ASSERT_TRUE(eventually(
      [&] { return system.jobs_in("delivered") + system.jobs_in("dead") == kRecords; }, 60s))
      << system.logs();
  ASSERT_EQ(system.jobs_in("dead"), 1);

  // The processes keep running (the poller keeps polling) while they are scraped.
  std::vector<Sample> poller, dispatcher;
  std::string poller_text, dispatcher_text;
  auto scrape = [&] {
    Answer p = get(ports.poller, "/metrics");
    Answer d = get(ports.dispatcher, "/metrics");
    poller_text = p.body;
    dispatcher_text = d.body;
    poller = parse_samples(p.body);
    dispatcher = parse_samples(d.body);
    return p.status == 200 && d.status == 200;
  };
  auto poller_matches = [&] {
    // Read the database between two scrapes: a poll may commit meanwhile.
    if (!scrape()) return false;
    int64_t jobs = system.scalar("SELECT count(*) FROM jobs");
    int64_t ok_polls = system.scalar("SELECT count(*) FROM polls WHERE status = 'ok'");
    return sum(poller, "opencti_webhook_jobs_enqueued_total", {{"feed", "default"}}) == jobs &&
           sum(poller, "opencti_webhook_polls_total", {{"result", "ok"}}) == ok_polls;
  };
  EXPECT_TRUE(eventually(poller_matches, 20s))
      << poller_text << "\njobs " << system.scalar("SELECT count(*) FROM jobs") << ", ok polls "
      << system.scalar("SELECT count(*) FROM polls WHERE status = 'ok'");
  EXPECT_EQ(sum(poller, "opencti_webhook_jobs_enqueued_total"), kRecords);
  EXPECT_GE(sum(poller, "opencti_webhook_items_total"), kRecords);  // the overlap sees some twice
  EXPECT_EQ(sum(poller, "opencti_webhook_render_errors_total"), 0);
  EXPECT_EQ(sum(poller, "opencti_webhook_poll_duration_seconds_count"),
            sum(poller, "opencti_webhook_polls_total"));
  EXPECT_TRUE(has(poller, "opencti_webhook_cursor_lag_seconds")) << poller_text;
  EXPECT_EQ(sum(poller, "opencti_webhook_build_info", {{"process", "poller"}}), 1);

  // The queue gauges follow the database every few seconds.
  auto dispatcher_matches = [&] {
    if (!scrape()) return false;
    return sum(dispatcher, "opencti_webhook_queue_jobs", {{"state", "delivered"}}) ==
               kRecords - 1 &&
           sum(dispatcher, "opencti_webhook_queue_jobs", {{"state", "dead"}}) == 1;
  };
  EXPECT_TRUE(eventually(dispatcher_matches, 20s)) << dispatcher_text;
  EXPECT_EQ(sum(dispatcher, "opencti_webhook_attempts_total"),
            system.scalar("SELECT count(*) FROM attempts"));
  EXPECT_EQ(sum(dispatcher, "opencti_webhook_attempts_total", {{"outcome", "delivered"}}),
            system.jobs_in("delivered"));
  EXPECT_EQ(sum(dispatcher, "opencti_webhook_attempts_total",
                {{"feed", "default"}, {"outcome", "delivered"}, {"status_class", "2xx"}}),
            kRecords - 1);
  EXPECT_EQ(sum(dispatcher, "opencti_webhook_attempts_total",
                {{"outcome", "retry"}, {"status_class", "5xx"}}),
            system.scalar("SELECT count(*) FROM attempts WHERE http_status = 503"));
  EXPECT_EQ(sum(dispatcher, "opencti_webhook_attempts_total",
                {{"outcome", "dead"}, {"status_class", "4xx"}}),
            1);
  EXPECT_EQ(sum(dispatcher, "opencti_webhook_dead_jobs_total"), system.jobs_in("dead"));
  EXPECT_EQ(sum(dispatcher, "opencti_webhook_request_duration_seconds_count"),
            system.scalar("SELECT count(*) FROM attempts"));
  EXPECT_EQ(sum(dispatcher, "opencti_webhook_queue_jobs", {{"state", "pending"}}), 0);
  EXPECT_EQ(sum(dispatcher, "opencti_webhook_oldest_pending_job_age_seconds"), 0);
  EXPECT_EQ(sum(dispatcher, "opencti_webhook_jobs_in_flight"), 0);
  EXPECT_EQ(sum(dispatcher, "opencti_webhook_build_info", {{"process", "dispatcher"}}), 1);

  expect_prometheus_conventions(poller_text, "opencti_");
  expect_prometheus_conventions(dispatcher_text, "opencti_");
  expect_no_secret(poller_text + dispatcher_text + get(ports.poller, "/healthz").body +
                   get(ports.dispatcher, "/healthz").body);
}

TEST(Health, PollerTurnsUnhealthyWhileOpenctiIsDownAndHealthyWhenItIsBack) {
  E2eSystem system;
  MetricsPorts ports = expose_metrics(system);
  system.env()["WEBHOOK_GRAPHQL_POLLING_INTERVAL"] = "0.2";  // unhealthy after 0.6 s
  system.start_poller();
  ASSERT_EQ(healthz_until(ports.poller, 200).status, 200) << system.logs();
  auto ctl = webhookctl_health(system, "poller");
  EXPECT_EQ(ctl.exit_code, 0) << ctl.out << ctl.err;

  system.fake().stop();
  Answer answer = healthz_until(ports.poller, 503);
  ASSERT_EQ(answer.status, 503) << answer.body << system.logs();
  EXPECT_NE(answer.body.find("feed default: last successful poll"), std::string::npos)
      << answer.body;
  EXPECT_NE(answer.body.find("last poll failed"), std::string::npos) << answer.body;
  ctl = webhookctl_health(system, "poller");
  EXPECT_EQ(ctl.exit_code, 1) << ctl.out << ctl.err;
  EXPECT_NE(ctl.err.find("feed default: last successful poll"), std::string::npos) << ctl.err;
  // Meanwhile /metrics says the same.
  auto samples = parse_samples(get(ports.poller, "/metrics").body);
  EXPECT_GT(sum(samples, "opencti_webhook_polls_total", {{"result", "failed"}}), 0);

  system.fake().start();
  EXPECT_EQ(healthz_until(ports.poller, 200).status, 200) << system.logs();
  ctl = webhookctl_health(system, "poller");
  EXPECT_EQ(ctl.exit_code, 0) << ctl.out << ctl.err;
  EXPECT_TRUE(system.poller().running());
}

TEST(Health, DispatcherTurnsUnhealthyWhileTheReceiverFailsLongEnoughAndHealthyAfter) {
  E2eSystem system;
  MetricsPorts ports = expose_metrics(system);
  system.env()["WEBHOOK_UNSUCCESSFUL_RETRY_ATTEMPTS"] = "1000";
  system.env()["WEBHOOK_UNSUCCESSFUL_RETRY_INTERVAL"] = "0.2";
  system.env()["WEBHOOK_HEALTH_MAX_PENDING_AGE"] = "1.5";
  system.sink().set_default_script(Script::always(Reply::status_only(503)));
  system.start_poller();
  system.start_dispatcher();
  ASSERT_TRUE(eventually([&] { return system.cursor().has_value(); })) << system.logs();
  ASSERT_EQ(healthz_until(ports.dispatcher, 200).status, 200) << system.logs();
  auto ctl = webhookctl_health(system, "dispatcher");
  EXPECT_EQ(ctl.exit_code, 0) << ctl.out << ctl.err;

  system.schedule().make_one();
  Answer answer = healthz_until(ports.dispatcher, 503);
  ASSERT_EQ(answer.status, 503) << answer.body << system.logs();
  EXPECT_NE(answer.body.find("feed default: a job has been pending for"), std::string::npos)
      << answer.body;
  ctl = webhookctl_health(system, "dispatcher");
  EXPECT_EQ(ctl.exit_code, 1) << ctl.out << ctl.err;
  EXPECT_NE(ctl.err.find("a job has been pending for"), std::string::npos) << ctl.err;

  system.sink().set_default_script(Script::always(Reply{}));
  ASSERT_TRUE(system.wait_all_delivered(30s)) << system.logs();
  EXPECT_EQ(healthz_until(ports.dispatcher, 200).status, 200)
      << get(ports.dispatcher, "/healthz").body;
  ctl = webhookctl_health(system, "dispatcher");
  EXPECT_EQ(ctl.exit_code, 0) << ctl.out << ctl.err;
}

TEST(Health, DispatcherTurnsUnhealthyWhenDueJobsWaitPastTheThresholdBehindAHungReceiver) {
  E2eSystem system;
  MetricsPorts ports = expose_metrics(system);
  system.env()["WEBHOOK_CONCURRENCY"] = "1";
  system.env()["WEBHOOK_TIMEOUT"] = "60";
  system.env()["WEBHOOK_HEALTH_MAX_DUE_DELAY"] = "1";
  system.env()["WEBHOOK_HEALTH_MAX_PENDING_AGE"] = "0";  // only the due-delay rule
  system.sink().set_default_script(Script::always(Reply::stalled(60s)));
  system.start_poller();
  system.start_dispatcher();
  ASSERT_TRUE(eventually([&] { return system.cursor().has_value(); })) << system.logs();
  ASSERT_EQ(healthz_until(ports.dispatcher, 200).status, 200) << system.logs();

  // The first job holds the only slot; the second is due and waits.
  system.schedule().make_one();
  system.schedule().make_one();
  Answer answer = healthz_until(ports.dispatcher, 503);
  ASSERT_EQ(answer.status, 503) << answer.body << system.logs();
  EXPECT_NE(answer.body.find("a pending job has been due for"), std::string::npos) << answer.body;
  EXPECT_EQ(
      sum(parse_samples(get(ports.dispatcher, "/metrics").body), "opencti_webhook_jobs_in_flight"),
      1);
  auto ctl = webhookctl_health(system, "dispatcher");
  EXPECT_EQ(ctl.exit_code, 1) << ctl.out << ctl.err;
  EXPECT_NE(ctl.err.find("a pending job has been due for"), std::string::npos) << ctl.err;

  system.sink().release_stalls();
  ASSERT_TRUE(system.wait_all_delivered(30s)) << system.logs();
  EXPECT_EQ(healthz_until(ports.dispatcher, 200).status, 200)
      << get(ports.dispatcher, "/healthz").body;
  ctl = webhookctl_health(system, "dispatcher");
  EXPECT_EQ(ctl.exit_code, 0) << ctl.out << ctl.err;
}

TEST(Metrics, APortAlreadyTakenStopsEitherProcessAtStartWithAClearError) {
  E2eSystem system;
  ListeningSocket taken;
  expose_metrics(system);
  system.env()["CONNECTOR_METRICS_PORT"] = std::to_string(taken.port());
  system.env()["WEBHOOK_DISPATCHER_METRICS_PORT"] = std::to_string(taken.port());
  const std::string address = "127.0.0.1:" + std::to_string(taken.port());

  system.start_poller();
  EXPECT_EQ(system.poller().wait_for(20s), 1) << system.logs();
  std::string poller_log = read_text(system.dir().file("poller.log"));
  EXPECT_NE(poller_log.find("cannot listen on " + address), std::string::npos) << poller_log;
  EXPECT_NE(poller_log.find("CONNECTOR_METRICS_PORT"), std::string::npos) << poller_log;

  system.start_dispatcher();
  EXPECT_EQ(system.dispatcher().wait_for(20s), 1) << system.logs();
  std::string dispatcher_log = read_text(system.dir().file("dispatcher.log"));
  EXPECT_NE(dispatcher_log.find("cannot listen on " + address), std::string::npos)
      << dispatcher_log;
  EXPECT_NE(dispatcher_log.find("WEBHOOK_DISPATCHER_METRICS_PORT"), std::string::npos)
      << dispatcher_log;
}

}  // namespace
}  // namespace webhook::e2e
