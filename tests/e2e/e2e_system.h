// The whole system for process-level tests: an in-process fake OpenCTI and sink (so a test
// can make the platform or the receiver fail at a chosen moment), a record schedule with its
// ground truth, and the real webhook-poller and webhook-dispatcher binaries as child processes
// on one store (a SQLite file, or a fresh database on this test process's throwaway
// PostgreSQL cluster), restarted and killed with real signals. The store is read the way an
// operator would, with SQL both dialects share. Every run uses a recognisable token, webhook
// secret and database password, so that the logs can be searched for them. One per test;
// rows() and scalar() may be called from another thread, the rest not.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>

#include <SQLiteCpp/SQLiteCpp.h>
#include <libpq-fe.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/child_process.h"
#include "tests/support/fake_opencti.h"
#include "tests/support/postgres_cluster.h"
#include "tests/support/record_schedule.h"
#include "tests/support/store_fixtures.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_receiver.h"

namespace webhook::e2e {

using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::Driver;
using testing::eventually;
using testing::FakeFailure;
using testing::FakeOpencti;
using testing::ReceivedRequest;
using testing::Reply;
using testing::Script;

// Recognisable secrets: no log line of any run may contain them.
inline const std::string kToken = "e2e-opencti-token-DO-NOT-LOG-4b1d";
inline const std::string kSecretBytes = "e2e-webhook-secret-DO-NOT-LOG";
inline const std::string kSecret = "whsec_ZTJlLXdlYmhvb2stc2VjcmV0LURPLU5PVC1MT0c=";
// In WEBHOOK_DATABASE_URL on PostgreSQL (the test cluster trusts loopback, so any password
// connects): a secret like the others.
inline const std::string kDatabasePassword = "e2e-db-password-DO-NOT-LOG-9c2e";

// The README's pagination example (FilterGroup syntax), selecting the id the URL carries.
inline const std::string kPagedWorksQuery =
    "query ($after: ID) {{ works(first: 500, after: $after, filters: {{mode: and, filters: "
    "[{{key: \"completed_time\", operator: gt, values: [\"LAST_POLL_TIME\"]}}], filterGroups: "
    "[]}}) {{ edges {{ node {{ id connector {{ name }} }} }} pageInfo {{ endCursor hasNextPage "
    "}} }} }}";

// Percent-decodes a URL component.
inline std::string percent_decode(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      out += static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

// The decoded query parameters of a request target, in order.
inline std::vector<std::pair<std::string, std::string>> query_parameters(
    const std::string& target) {
  std::vector<std::pair<std::string, std::string>> out;
  auto q = target.find('?');
  if (q == std::string::npos) return out;
  std::stringstream in(target.substr(q + 1));
  for (std::string pair; std::getline(in, pair, '&');) {
    auto eq = pair.find('=');
    out.emplace_back(percent_decode(pair.substr(0, eq)),
                     eq == std::string::npos ? "" : percent_decode(pair.substr(eq + 1)));
  }
  return out;
}

// The pid in a dispatcher's worker name (host:pid:suffix).
inline pid_t pid_of_worker(const std::string& worker) {
  auto last = worker.rfind(':');
  auto first = worker.rfind(':', last - 1);
  return static_cast<pid_t>(std::stol(worker.substr(first + 1, last - first - 1)));
}

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A query's rows as text (nullopt for NULL), read on a fresh connection to `url`; empty when
// the server is down or the schema not migrated yet.
using SqlRow = std::vector<std::optional<std::string>>;
inline std::vector<SqlRow> pg_rows(const std::string& url, const std::string& sql) {
  std::vector<SqlRow> out;
  PGconn* conn = PQconnectdb(url.c_str());
  if (PQstatus(conn) == CONNECTION_OK) {
    PGresult* r = PQexec(conn, sql.c_str());
    if (PQresultStatus(r) == PGRES_TUPLES_OK) {  // else not migrated yet, or the server down
      for (int i = 0; i < PQntuples(r); ++i) {
        SqlRow row;
        for (int j = 0; j < PQnfields(r); ++j) {
          row.push_back(PQgetisnull(r, i, j) ? std::nullopt
                                             : std::optional<std::string>(PQgetvalue(r, i, j)));
        }
        out.push_back(std::move(row));
      }
    }
    PQclear(r);
  }
  PQfinish(conn);
  return out;
}

// The requests a receiver got by the id= of their query, counting answered ones only when
// `ok_only`.
inline std::map<std::string, int> received_ids_of(const testing::TestReceiver& sink,
                                                  bool ok_only = true) {
  std::map<std::string, int> ids;
  for (const auto& r : sink.requests()) {
    if (ok_only && (r.status < 200 || r.status > 299)) continue;
    for (const auto& [name, value] : query_parameters(r.target)) {
      if (name == "id") ++ids[value];
    }
  }
  return ids;
}

// Waits until every record `schedule` made so far reached `sink` with a 2xx answer, looking
// every `every`.
inline bool wait_all_received(const testing::TestReceiver& sink,
                              const testing::RecordSchedule& schedule,
                              std::chrono::milliseconds timeout, std::chrono::milliseconds every) {
  return testing::eventually(
      [&] {
        auto ids = received_ids_of(sink);
        for (const auto& record : schedule.made()) {
          if (ids.count(record.id) == 0) return false;
        }
        return true;
      },
      timeout, every);
}

// The settings every end-to-end run starts from: the fake OpenCTI at `opencti_url`, the
// README's paged works query, requests to `sink_url` carrying the work's id, short
// intervals, and the recognisable secrets.
inline std::map<std::string, std::string> base_env(const std::string& opencti_url,
                                                   const std::string& sink_url) {
  return {{"OPENCTI_URL", opencti_url},
          {"OPENCTI_TOKEN", kToken},
          {"OPENCTI_JSON_LOGGING", "false"},
          {"CONNECTOR_LOG_LEVEL", "info"},
          {"WEBHOOK_GRAPHQL_QUERY", kPagedWorksQuery},
          {"WEBHOOK_GRAPHQL_PAGE_INFO_LOCATION", "['data']['works']['pageInfo']"},
          {"WEBHOOK_GRAPHQL_RETURNED_DATA_LOCATION", "['data']['works']['edges']"},
          {"WEBHOOK_URL", sink_url + "?id={item['node']['id']}&connector=" +
                              "{item['node']['connector']['name']}"},
          {"WEBHOOK_GRAPHQL_POLLING_INTERVAL", "0.1"},
          {"WEBHOOK_GRAPHQL_TIMEOUT", "3"},  // a loaded machine takes a while to send 10 MB
          {"WEBHOOK_POLL_OVERLAP", "2"},
          {"WEBHOOK_UNSUCCESSFUL_RETRY_INTERVAL", "0.1"},
          {"WEBHOOK_UNSUCCESSFUL_RETRY_ATTEMPTS", "3"},
          {"WEBHOOK_TIMEOUT", "3"},            // generous: a loaded machine is slow, not broken
          {"WEBHOOK_HOST_CONCURRENCY", "16"},  // one round per lease: 3 s + 5 s
          {"WEBHOOK_SHUTDOWN_GRACE", "2"},
          {"WEBHOOK_SECRET", kSecret}};
}

class E2eSystem {
 public:
  explicit E2eSystem(testing::FakeOpenctiOptions fake_options = {},
                     testing::RecordScheduleOptions schedule = {}, Driver driver = Driver::kSqlite)
      : fake_(with_token(std::move(fake_options))),
        schedule_(fake_.records(), with_truth(std::move(schedule), dir_)),
        driver_(driver) {
    env_ = base_env(fake_.url(), sink_.url("/works"));
    if (driver_ == Driver::kPostgres) {
      // The URL the driver connects with carries a password; the one this test reads with
      // does not need it.
      url_ = testing::PostgresCluster::shared().fresh_database();
      const std::string user = "postgresql://webhook";
      env_["WEBHOOK_DATABASE_URL"] = user + ":" + kDatabasePassword + url_.substr(user.size());
    } else {
      env_["WEBHOOK_DATABASE_PATH"] = db_path();
      env_["WEBHOOK_DATABASE_SYNCHRONOUS"] = "NORMAL";
    }
  }

  ~E2eSystem() {
    schedule_.stop();
    poller_.reset();
    dispatcher_.reset();
    expect_no_secret_in_logs();
  }

  std::map<std::string, std::string>& env() { return env_; }
  FakeOpencti& fake() { return fake_; }
  testing::TestReceiver& sink() { return sink_; }
  testing::RecordSchedule& schedule() { return schedule_; }
  testing::TempDir& dir() { return dir_; }
  std::string db_path() const { return dir_.file("webhook.db"); }
  Driver driver() const { return driver_; }
  // What `webhookctl --database` takes: the file or the URL.
  std::string database() const {
    return driver_ == Driver::kPostgres ? env_.at("WEBHOOK_DATABASE_URL") : db_path();
  }

  // --- processes ---
  void start_poller() {
    poller_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{WEBHOOK_BINARY_DIR "/poller/webhook-poller"}, env_,
        dir_.file("poller.log"));
  }
  void start_dispatcher() {
    dispatcher_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{WEBHOOK_BINARY_DIR "/dispatcher/webhook-dispatcher"}, env_,
        dir_.file("dispatcher.log"));
    dispatcher_pids_.insert(dispatcher_->pid());
  }
  ChildProcess& poller() { return *poller_; }
  ChildProcess& dispatcher() { return *dispatcher_; }
  // Signals a process and waits for it to end; its exit code.
  std::optional<int> stop(std::unique_ptr<ChildProcess>& process, int sig) {
    process->signal(sig);
    auto code = process->wait_for(30s);
    if (sig == SIGKILL && code) killed_pids_.insert(process->pid());
    process.reset();
    return code;
  }
  std::optional<int> stop_poller(int sig = SIGTERM) { return stop(poller_, sig); }
  std::optional<int> stop_dispatcher(int sig = SIGTERM) { return stop(dispatcher_, sig); }
  const std::set<pid_t>& killed_pids() const { return killed_pids_; }
  std::string logs() const {
    return read_text(dir_.file("poller.log")) + read_text(dir_.file("dispatcher.log"));
  }

  // --- the database, read the way an operator would ---
  // The rows of `sql` as text (nullopt for NULL); empty when the store does not exist or is
  // not migrated yet, or is busy.
  using Row = std::vector<std::optional<std::string>>;
  // SQLite only: the file itself, for SQLite-only checks.
  std::unique_ptr<SQLite::Database> db() const {
    if (!std::filesystem::exists(db_path())) return nullptr;
    auto db = std::make_unique<SQLite::Database>(db_path(), SQLite::OPEN_READONLY);
    db->setBusyTimeout(5000);
    return db;
  }
  std::vector<Row> rows(const std::string& sql) const {
    return driver_ == Driver::kPostgres ? postgres_rows(sql) : sqlite_rows(sql);
  }
  int64_t scalar(const std::string& sql) const {
    auto r = rows(sql);
    return r.empty() || r[0].empty() || !r[0][0] ? -1 : std::stoll(*r[0][0]);
  }
  std::optional<int64_t> cursor(const std::string& feed = "default") const {
    int64_t c = scalar("SELECT last_poll_time FROM cursors WHERE feed = '" + feed + "'");
    return c < 0 ? std::nullopt : std::optional<int64_t>(c);
  }
  int64_t jobs_in(const std::string& state) const {
    return scalar("SELECT count(*) FROM jobs WHERE state = '" + state + "'");
  }

  // --- what the sink got ---
  // Requests to `path` by the id= of their query, counting answered ones only when `ok_only`.
  std::map<std::string, int> received_ids(bool ok_only = true) const {
    return received_ids_of(sink_, ok_only);
  }
  // Waits until every record made so far reached the sink with a 2xx answer.
  bool wait_all_delivered(std::chrono::milliseconds timeout) const {
    return wait_all_received(sink_, schedule_, timeout, 50ms);
  }
  // Every record made reached the sink exactly once, and nothing else did.
  void expect_each_record_exactly_once() const {
    auto ids = received_ids();
    int missing = 0, duplicated = 0;
    for (const auto& record : schedule_.made()) {
      auto it = ids.find(record.id);
      if (it == ids.end()) {
        ++missing;
      } else if (it->second != 1) {
        ++duplicated;
      }
    }
    EXPECT_EQ(missing, 0) << "of " << schedule_.made().size() << " records";
    EXPECT_EQ(duplicated, 0);
    EXPECT_EQ(ids.size(), schedule_.made().size());
  }

  // The rule for every run: neither the token nor the secret in any log line.
  void expect_no_secret_in_logs() const {
    std::string all = logs();
    EXPECT_EQ(all.find(kToken), std::string::npos) << "the OpenCTI token is in a log";
    EXPECT_EQ(all.find(kSecret), std::string::npos) << "the webhook secret is in a log";
    EXPECT_EQ(all.find("ZTJlLXdlYmhvb2stc2VjcmV0"), std::string::npos)
        << "the webhook secret is in a log";
    EXPECT_EQ(all.find(kSecretBytes), std::string::npos) << "the secret's bytes are in a log";
    EXPECT_EQ(all.find(kDatabasePassword), std::string::npos) << "the DB password is in a log";
  }

 private:
  std::vector<Row> sqlite_rows(const std::string& sql) const {
    std::vector<Row> out;
    if (!std::filesystem::exists(db_path())) return out;
    try {
      SQLite::Database db(db_path(), SQLite::OPEN_READONLY);
      db.setBusyTimeout(5000);
      SQLite::Statement s(db, sql);
      while (s.executeStep()) {
        Row row;
        for (int i = 0; i < s.getColumnCount(); ++i) {
          auto column = s.getColumn(i);
          row.push_back(column.isNull() ? std::nullopt
                                        : std::optional<std::string>(column.getString()));
        }
        out.push_back(std::move(row));
      }
    } catch (const SQLite::Exception&) {
      out.clear();  // not migrated yet, or busy
    }
    return out;
  }
  std::vector<Row> postgres_rows(const std::string& sql) const { return pg_rows(url_, sql); }

  static testing::FakeOpenctiOptions with_token(testing::FakeOpenctiOptions options) {
    options.token = kToken;
    return options;
  }
  static testing::RecordScheduleOptions with_truth(testing::RecordScheduleOptions options,
                                                   const testing::TempDir& dir) {
    if (options.ground_truth_file.empty()) options.ground_truth_file = dir.file("truth.jsonl");
    return options;
  }

  testing::TempDir dir_;
  FakeOpencti fake_;
  testing::TestReceiver sink_;
  testing::RecordSchedule schedule_;
  const Driver driver_;
  std::string url_;  // PostgreSQL, without the password
  std::map<std::string, std::string> env_;
  std::unique_ptr<ChildProcess> poller_;
  std::unique_ptr<ChildProcess> dispatcher_;
  std::set<pid_t> dispatcher_pids_;
  std::set<pid_t> killed_pids_;
};

}  // namespace webhook::e2e
