// Several hosts on one PostgreSQL for process-level tests, all on this machine as network
// namespaces of the test's own (NetnsLab): "db" runs a throwaway PostgreSQL cluster as the
// postgres user, listening on db's address only; "svc" is this test process itself (its main
// thread enters svc's namespace), serving the fake OpenCTI and the receiver in-process so the
// test can read and script them and its SQL reads go over the lab's network too; "a" and "b"
// each run a real webhook-poller and webhook-dispatcher (`ip netns exec`, real signals).
// Services live on a host of their own rather than on db because in production OpenCTI and
// the receiver are neither the database nor an application host: a cut of one application
// host leaves the other reaching all three, and a database restart touches nothing else.
// The receiver's log (every request: sender, status, job id, Idempotency-Key) is checked
// against the record schedule's ground truth and the store's attempts. One per test; the
// destructor kills what still runs, stops the server and removes the namespaces, even when
// the test failed. Not thread-safe, except rows() and scalar().
#pragma once

#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "tests/e2e/e2e_system.h"
#include "tests/support/netns_lab.h"

namespace webhook::e2e {

using testing::NetnsLab;

class MultiHostSystem {
 public:
  static constexpr int kPostgresPort = 5432;  // db's namespace has nothing else on it

  explicit MultiHostSystem(testing::RecordScheduleOptions schedule,
                           std::vector<std::string> app_hosts = {"a", "b"})
      : lab_(make_lab(app_hosts)),
        inside_(*lab_, "svc"),
        cluster_(cluster_options(*lab_)),
        fake_(fake_options(*lab_)),
        sink_(std::nullopt, 64, 0, lab_->address("svc")),
        schedule_(fake_.records(), with_truth(std::move(schedule), dir_)) {
    url_ = cluster_.fresh_database();
    env_ = base_env(fake_.url(), sink_.url("/works"));
    const std::string user = "postgresql://webhook";
    // libpq gives up on a silent server after 3 s and reconnects with a 3 s connect timeout,
    // as the README advises for hosts that can be cut off.
    env_["WEBHOOK_DATABASE_URL"] = user + ":" + kDatabasePassword + url_.substr(user.size()) +
                                   "?connect_timeout=3&tcp_user_timeout=3000&keepalives_idle=1"
                                   "&keepalives_interval=1&keepalives_count=2";
    env_["WEBHOOK_TIMEOUT"] = "2";  // a job's lease: 2 s + 5 s
  }

  ~MultiHostSystem() {
    schedule_.stop();
    processes_.clear();
    expect_no_secret_in_logs();
    if (::testing::Test::HasFailure()) print_logs();
  }

  NetnsLab& lab() { return *lab_; }
  testing::PostgresCluster& cluster() { return cluster_; }
  std::map<std::string, std::string>& env() { return env_; }
  testing::FakeOpencti& fake() { return fake_; }
  testing::TestReceiver& sink() { return sink_; }
  testing::RecordSchedule& schedule() { return schedule_; }
  testing::TempDir& dir() { return dir_; }

  // --- processes, by host ---
  // `extra` adds to or overrides env() for this process only.
  void start_poller(const std::string& host, const std::map<std::string, std::string>& extra = {}) {
    start("poller", host, extra);
  }
  void start_dispatcher(const std::string& host,
                        const std::map<std::string, std::string>& extra = {}) {
    start("dispatcher", host, extra);
  }
  ChildProcess& poller(const std::string& host) { return *processes_.at("poller@" + host); }
  ChildProcess& dispatcher(const std::string& host) { return *processes_.at("dispatcher@" + host); }
  // Signals the process and waits for it to end; its exit code.
  std::optional<int> stop(const std::string& program, const std::string& host, int sig) {
    auto& process = processes_.at(program + "@" + host);
    process->signal(sig);
    auto code = process->wait_for(30s);
    processes_.erase(program + "@" + host);
    return code;
  }
  std::string logs() const {
    std::string all;
    for (const auto& name : log_names_) all += read_text(dir_.file(name));
    return all;
  }

  // --- the database, read from svc as an operator would ---
  std::vector<SqlRow> rows(const std::string& sql) const { return pg_rows(url_, sql); }
  int64_t scalar(const std::string& sql) const {
    auto r = rows(sql);
    return r.empty() || r[0].empty() || !r[0][0] ? -1 : std::stoll(*r[0][0]);
  }
  // The LIKE pattern matching the worker names of the process with `pid` (host:pid:suffix).
  static std::string worker_of(pid_t pid) { return "%:" + std::to_string(pid) + ":%"; }

  // --- what the receiver got ---
  std::map<std::string, int> received_ids() const { return received_ids_of(sink_); }
  bool wait_all_delivered(std::chrono::milliseconds timeout) const {
    return wait_all_received(sink_, schedule_, timeout, 100ms);
  }
  // The receiver's log as JSON lines: one per request, in order of arrival.
  std::string write_receiver_log() const {
    const std::string path = dir_.file("receiver.log");
    std::ofstream out(path);
    for (const auto& r : sink_.requests()) {
      std::string id;
      for (const auto& [name, value] : query_parameters(r.target)) {
        if (name == "id") id = value;
      }
      out << nlohmann::json{{"at_ms", r.received_at_ms},
                            {"from", r.remote_addr},
                            {"status", r.status},
                            {"id", id},
                            {"idempotency_key", r.header("Idempotency-Key")}}
                 .dump()
          << "\n";
    }
    return path;
  }

  // The verdict of every scenario, from the receiver's log, the ground truth and the store:
  // every record made reached the receiver with a 2xx answer, as one job; every job was
  // delivered; a key the receiver saw n > 1 times has an attempt row per request and at
  // least n - 1 interrupted attempts of a dispatcher that `disturbed` says was killed, cut
  // off or had its database restart under it (its pid). Returns the number of duplicates.
  int expect_nothing_lost_and_duplicates_explained(
      const std::function<bool(pid_t)>& disturbed) const {
    write_receiver_log();
    const auto made = schedule_.made();
    auto received = received_ids();
    int missing = 0;
    for (const auto& record : made) missing += received.count(record.id) == 0 ? 1 : 0;
    EXPECT_EQ(missing, 0) << "of " << made.size() << " records";
    EXPECT_EQ(received.size(), made.size()) << "the receiver got records nobody made";
    EXPECT_EQ(scalar("SELECT count(*) FROM jobs"), static_cast<int64_t>(made.size()))
        << "a record was enqueued twice, or not at all";
    EXPECT_EQ(scalar("SELECT count(DISTINCT url) FROM jobs"), static_cast<int64_t>(made.size()));
    EXPECT_TRUE(eventually(
        [&] {
          return scalar("SELECT count(*) FROM jobs WHERE state = 'delivered'") ==
                 static_cast<int64_t>(made.size());
        },
        30s, 100ms))
        << scalar("SELECT count(*) FROM jobs WHERE state = 'delivered'") << " of " << made.size()
        << " jobs delivered";

    std::map<std::string, int> requests_by_key;
    for (const auto& r : sink_.requests()) ++requests_by_key[r.header("Idempotency-Key")];
    std::map<std::string, int> attempts_by_key, interruptions_by_key;
    for (const auto& row : rows("SELECT j.id, a.error, a.worker FROM attempts AS a "
                                "JOIN jobs AS j ON j.seq = a.job_seq")) {
      const std::string key = row[0].value_or("");
      ++attempts_by_key[key];
      const std::string error = row[1].value_or("");
      if (error.rfind("interrupted", 0) == 0 && disturbed(pid_of_worker(row[2].value_or("::")))) {
        ++interruptions_by_key[key];
      }
    }
    int duplicates = 0;
    for (const auto& [key, count] : requests_by_key) {
      EXPECT_LE(count, attempts_by_key[key]) << key << ": a request without an attempt row";
      if (count > 1) {
        ++duplicates;
        EXPECT_GE(interruptions_by_key[key], count - 1)
            << key << " reached the receiver " << count
            << " times without an interrupted attempt of a disturbed dispatcher";
      }
    }
    return duplicates;
  }

  // The issue's rule for every run: neither the token nor the secret in any log line.
  void expect_no_secret_in_logs() const {
    std::string all = logs();
    EXPECT_EQ(all.find(kToken), std::string::npos) << "the OpenCTI token is in a log";
    EXPECT_EQ(all.find(kSecret), std::string::npos) << "the webhook secret is in a log";
    EXPECT_EQ(all.find(kSecretBytes), std::string::npos) << "the secret's bytes are in a log";
    EXPECT_EQ(all.find(kDatabasePassword), std::string::npos) << "the DB password is in a log";
  }

 private:
  static std::unique_ptr<NetnsLab> make_lab(const std::vector<std::string>& app_hosts) {
    auto lab = std::make_unique<NetnsLab>();
    lab->add_host("db");
    lab->add_host("svc");
    for (const auto& host : app_hosts) lab->add_host(host);
    return lab;
  }
  static testing::PostgresClusterOptions cluster_options(const NetnsLab& lab) {
    testing::PostgresClusterOptions options;
    options.listen_address = lab.address("db");
    options.port = kPostgresPort;
    options.trusted_network = lab.subnet() + ".0/24";  // the lab's hosts only
    std::string prefix;
    for (const auto& word : lab.exec_prefix("db")) prefix += word + " ";
    options.run_prefix = prefix;
    // A session whose host went silent ends within seconds, releasing what it locked, as
    // the README advises for servers whose clients can be cut off.
    options.settings =
        "-c tcp_keepalives_idle=1 -c tcp_keepalives_interval=1 -c tcp_keepalives_count=2 "
        "-c tcp_user_timeout=3000";
    return options;
  }
  static testing::FakeOpenctiOptions fake_options(const NetnsLab& lab) {
    testing::FakeOpenctiOptions options;
    options.token = kToken;
    options.host = lab.address("svc");
    return options;
  }
  static testing::RecordScheduleOptions with_truth(testing::RecordScheduleOptions options,
                                                   const testing::TempDir& dir) {
    if (options.ground_truth_file.empty()) options.ground_truth_file = dir.file("truth.jsonl");
    return options;
  }

  void start(const std::string& program, const std::string& host,
             const std::map<std::string, std::string>& extra) {
    const std::string key = program + "@" + host;
    const std::string log = key + ".log";
    if (std::find(log_names_.begin(), log_names_.end(), log) == log_names_.end()) {
      log_names_.push_back(log);
    }
    auto env = env_;
    for (const auto& [name, value] : extra) env[name] = value;
    processes_.erase(key);
    processes_[key] =
        lab_->spawn(host, {std::string(WEBHOOK_BINARY_DIR) + "/" + program + "/webhook-" + program},
                    env, dir_.file(log));
  }

  void print_logs() const {
    for (const auto& name : log_names_) {
      const std::string text = read_text(dir_.file(name));
      const std::size_t from = text.size() > 2500 ? text.size() - 2500 : 0;
      std::cout << "---- " << name << " (last part) ----\n" << text.substr(from) << "\n";
    }
    std::cout << "---- receiver: " << sink_.count() << " requests ----\n";
  }

  testing::TempDir dir_;
  std::unique_ptr<NetnsLab> lab_;
  NetnsLab::Enter inside_;  // the test process is svc from here on
  testing::PostgresCluster cluster_;
  FakeOpencti fake_;
  testing::TestReceiver sink_;
  testing::RecordSchedule schedule_;
  std::string url_;  // without the password
  std::map<std::string, std::string> env_;
  std::vector<std::string> log_names_;
  std::map<std::string, std::unique_ptr<ChildProcess>> processes_;  // "program@host"
};

}  // namespace webhook::e2e
