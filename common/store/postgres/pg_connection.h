// libpq behind small RAII types for the PostgreSQL store: PgResult owns a PGresult,
// PgParams holds one statement's text parameters, PgConnection owns the PGconn and keeps it
// alive: a connection lost (server restart, failover, dropped socket) is reopened with
// backoff on the next use, LISTEN included, and every error names the server without its
// password. One thread at a time.
#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace webhook::store {

// The connection URI with any password replaced by "***", for messages and logs.
std::string mask_database_url(const std::string& url);

// Throws std::invalid_argument (naming WEBHOOK_DATABASE_URL, never the password) when libpq
// cannot parse `url`.
void check_database_url(const std::string& url);

class PgResult {
 public:
  PgResult() = default;
  explicit PgResult(PGresult* result) : result_(result) {}

  int rows() const { return PQntuples(result_.get()); }
  bool null(int row, int column) const { return PQgetisnull(result_.get(), row, column) != 0; }
  std::string text(int row, int column) const {
    return std::string(PQgetvalue(result_.get(), row, column),
                       static_cast<std::size_t>(PQgetlength(result_.get(), row, column)));
  }
  int64_t int64(int row, int column) const;
  std::optional<int64_t> optional_int64(int row, int column) const {
    if (null(row, column)) return std::nullopt;
    return int64(row, column);
  }
  // Rows an INSERT, UPDATE or DELETE changed.
  int changed() const;

 private:
  struct Clear {
    void operator()(PGresult* r) const { PQclear(r); }
  };
  std::unique_ptr<PGresult, Clear> result_;
};

class PgParams {
 public:
  PgParams& add(int64_t value) { return add_text(std::to_string(value)); }
  PgParams& add(int value) { return add_text(std::to_string(value)); }
  PgParams& add(std::string_view value) { return add_text(std::string(value)); }
  PgParams& add(const std::string& value) { return add_text(value); }
  PgParams& add(const char* value) { return add_text(value); }
  PgParams& add(const std::optional<int64_t>& value) { return value ? add(*value) : add_null(); }
  PgParams& add_null() {
    values_.emplace_back();
    null_.push_back(true);
    return *this;
  }
  std::size_t size() const { return values_.size(); }
  // The pointers libpq takes; valid while this object is unchanged.
  std::vector<const char*> pointers() const;

 private:
  PgParams& add_text(std::string value) {
    values_.push_back(std::move(value));
    null_.push_back(false);
    return *this;
  }
  std::vector<std::string> values_;
  std::vector<bool> null_;
};

// A one-dimensional array parameter in PostgreSQL's text form ({"a","b",NULL}), so that one
// statement can carry a whole batch (unnest($n::text[]) …) instead of a statement per row.
class PgArray {
 public:
  PgArray& add(std::string_view value);
  PgArray& add(int64_t value);
  PgArray& add(const std::optional<int64_t>& value) { return value ? add(*value) : add_null(); }
  PgArray& add_null();
  std::string text() const { return text_ + "}"; }

 private:
  void separate() { text_ += text_.size() > 1 ? "," : ""; }
  std::string text_ = "{";
};

class PgConnection {
 public:
  // Checks the URL (std::invalid_argument when malformed) but does not connect: the first
  // use does, so a process whose server is not up yet starts and retries.
  PgConnection(std::string url, std::string listen_channel);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Runs one statement; throws std::runtime_error("<what> failed on <server>: <error>").
  PgResult exec(std::string_view what, const std::string& sql, const PgParams& params = {});
  // The same as a named prepared statement, prepared on this connection at first use (again
  // after a reconnect): the server parses and plans it once instead of at every call.
  // `name` identifies `sql`; one name, one text.
  PgResult exec_prepared(std::string_view what, const std::string& name, const std::string& sql,
                         const PgParams& params = {});
  // Several statements without parameters (a migration), on the simple query protocol.
  void exec_script(std::string_view what, const std::string& sql);

  // Runs `body` in BEGIN … COMMIT (rolled back if it throws). A deadlock or serialization
  // failure runs it again from the start. Nested calls join the outer transaction.
  void write(std::string_view what, const std::function<void()>& body);
  // The same read-only, at REPEATABLE READ: one snapshot for figures that must agree.
  void read_snapshot(std::string_view what, const std::function<void()>& body);

  // Waits until a notification on the listen channel from another session arrives (true),
  // `timeout` passes or `interrupt_fd` is readable (false). Connects if needed.
  bool wait_for_notification(std::chrono::milliseconds timeout, int interrupt_fd);

  const std::string& display() const { return display_; }

  // The value libpq uses for connection parameter `keyword` (e.g. "tcp_user_timeout"):
  // the URL's, else our default, else libpq's. Connects if needed. For tests and diagnostics.
  std::string option_in_use(std::string_view keyword);

  // How long a broken connection waits before the next attempt, growing to kMaxBackoff.
  static constexpr std::chrono::milliseconds kFirstBackoff{100};
  static constexpr std::chrono::milliseconds kMaxBackoff{5000};

 private:
  void transaction(std::string_view what, const char* begin, const std::function<void()>& body);
  PGconn* connected(std::string_view what);
  void lost();
  bool take_notifications();
  PgResult checked(std::string_view what, PGconn* conn, PGresult* raw);
  std::string error_text(std::string text) const;

  const std::string url_;
  const std::string display_;  // masked
  const std::string channel_;
  PGconn* conn_ = nullptr;
  bool in_transaction_ = false;
  std::chrono::steady_clock::time_point next_connect_{};
  std::chrono::milliseconds backoff_{0};
  std::string last_connect_error_;
  std::set<std::string, std::less<>> prepared_;  // on conn_; emptied when it is lost
  bool cut_off_ = false;                         // lost or unreachable since it last connected
};

}  // namespace webhook::store
