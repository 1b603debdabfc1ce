#include "common/store/postgres/pg_connection.h"

#include <poll.h>

#include <algorithm>
#include <charconv>
#include <stdexcept>

#include "common/logging.h"
#include "common/store/store_connectivity.h"

namespace webhook::store {
namespace {

// The password given in `url`, if any (userinfo or ?password=), for scrubbing messages.
std::string password_of(const std::string& url) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
  if (error != nullptr) PQfreemem(error);
  std::string password;
  if (options == nullptr) return password;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (std::string_view(o->keyword) == "password" && o->val != nullptr) password = o->val;
  }
  PQconninfoFree(options);
  return password;
}

std::string scrub(std::string text, const std::string& password) {
  if (password.empty()) return text;
  for (std::size_t at = text.find(password); at != std::string::npos;
       at = text.find(password, at + 3)) {
    text.replace(at, password.size(), "***");
  }
  return text;
}

std::string trimmed(const char* text) {
  std::string out = text == nullptr ? "" : text;
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

// A failure worth running the transaction again for (SQLSTATE 40001, 40P01).
struct RetryableError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace

std::string mask_database_url(const std::string& url) {
  std::string out = url;
  // userinfo: scheme://user:password@host
  const std::size_t scheme = out.find("://");
  if (scheme != std::string::npos) {
    const std::size_t start = scheme + 3;
    const std::size_t end = out.find_first_of("/?", start);
    const std::size_t at = out.rfind('@', end == std::string::npos ? out.size() : end);
    if (at != std::string::npos && at >= start) {
      const std::size_t colon = out.find(':', start);
      if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
    }
  }
  // ?password=… or &password=…
  for (std::size_t p = out.find("password="); p != std::string::npos;
       p = out.find("password=", p + 1)) {
    if (p > 0 && out[p - 1] != '?' && out[p - 1] != '&') continue;
    const std::size_t value = p + 9;
    const std::size_t end = std::min(out.find('&', value), out.size());
    out.replace(value, end - value, "***");
  }
  return out;
}

void check_database_url(const std::string& url) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
  if (options != nullptr) {
    PQconninfoFree(options);
    return;
  }
  std::string why = scrub(trimmed(error), password_of(url));
  if (error != nullptr) PQfreemem(error);
  throw std::invalid_argument("WEBHOOK_DATABASE_URL: not a PostgreSQL connection URI (" + why +
                              "): " + mask_database_url(url));
}

int64_t PgResult::int64(int row, int column) const {
  const char* text = PQgetvalue(result_.get(), row, column);
  int64_t value = 0;
  std::from_chars(text, text + PQgetlength(result_.get(), row, column), value);
  return value;
}

int PgResult::changed() const {
  const char* text = PQcmdTuples(result_.get());
  int value = 0;
  if (text != nullptr) std::from_chars(text, text + std::char_traits<char>::length(text), value);
  return value;
}

std::vector<const char*> PgParams::pointers() const {
  std::vector<const char*> out;
  out.reserve(values_.size());
  for (std::size_t i = 0; i < values_.size(); ++i) {
    out.push_back(null_[i] ? nullptr : values_[i].c_str());
  }
  return out;
}

PgArray& PgArray::add(std::string_view value) {
  separate();
  text_ += '"';
  for (char c : value) {
    if (c == '"' || c == '\\') text_ += '\\';
    text_ += c;
  }
  text_ += '"';
  return *this;
}

PgArray& PgArray::add(int64_t value) {
  separate();
  text_ += std::to_string(value);
  return *this;
}

PgArray& PgArray::add_null() {
  separate();
  text_ += "NULL";
  return *this;
}

PgConnection::PgConnection(std::string url, std::string listen_channel)
    : url_(std::move(url)), display_(mask_database_url(url_)), channel_(std::move(listen_channel)) {
  check_database_url(url_);
}

PgConnection::~PgConnection() {
  if (conn_ != nullptr) PQfinish(conn_);
}

std::string PgConnection::error_text(std::string text) const {
  return scrub(std::move(text), password_of(url_));
}

void PgConnection::lost() {
  if (conn_ != nullptr) PQfinish(conn_);
  conn_ = nullptr;
  in_transaction_ = false;
  prepared_.clear();
  cut_off_ = true;
  StoreConnectivity::process().cut_off();
  backoff_ = std::clamp(backoff_ * 2, kFirstBackoff, kMaxBackoff);
  next_connect_ = std::chrono::steady_clock::now() + backoff_;
}

std::string PgConnection::option_in_use(std::string_view keyword) {
  PQconninfoOption* options = PQconninfo(connected("reading the connection's options"));
  if (options == nullptr)
    throw std::runtime_error("reading the connection's options: out of memory");
  std::string value;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (keyword == o->keyword && o->val != nullptr) value = o->val;
  }
  PQconninfoFree(options);
  return value;
}

PGconn* PgConnection::connected(std::string_view what) {
  if (conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK) return conn_;
  if (conn_ != nullptr) {
    log_event(spdlog::level::warn, "PostgreSQL connection lost; reconnecting",
              {{"store", display_}});
    lost();
  }
  const auto now = std::chrono::steady_clock::now();
  if (now < next_connect_) {
    throw std::runtime_error(std::string(what) + " failed: PostgreSQL at " + display_ +
                             " is not reachable (" + last_connect_error_ + "); retrying");
  }
  // Defaults for a link that goes silent (a host cut off): without them a connection waits
  // on TCP's retransmissions for many minutes, holding the transaction it was in, before
  // the process can reconnect. Entries before the expanded URL are overridden by the URL's
  // own parameters (libpq's PQconnectdbParams rule), so an operator's choice wins.
  static constexpr const char* kKeywords[] = {
      "connect_timeout",  "keepalives",       "keepalives_idle", "keepalives_interval",
      "keepalives_count", "tcp_user_timeout", "dbname",          nullptr};
  const char* values[] = {"10", "1", "10", "5", "3", "30000", url_.c_str(), nullptr};
  PGconn* conn = PQconnectdbParams(kKeywords, values, /*expand_dbname=*/1);
  if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) {
    last_connect_error_ = error_text(trimmed(conn ? PQerrorMessage(conn) : "out of memory"));
    if (conn != nullptr) PQfinish(conn);
    lost();
    log_event(
        spdlog::level::err, "cannot connect to PostgreSQL; will retry",
        {{"store", display_}, {"error", last_connect_error_}, {"retry_ms", backoff_.count()}});
    throw std::runtime_error(std::string(what) + " failed: cannot connect to PostgreSQL at " +
                             display_ + ": " + last_connect_error_);
  }
  conn_ = conn;
  // The server's notices (e.g. "relation … already exists, skipping" from the migration's
  // CREATE TABLE IF NOT EXISTS) go to the log at debug level, not raw to stderr.
  PQsetNoticeProcessor(
      conn_,
      [](void*, const char* message) {
        log_event(spdlog::level::debug, "PostgreSQL notice", {{"message", trimmed(message)}});
      },
      nullptr);
  if (!channel_.empty()) {
    PGresult* r = PQexec(conn_, ("LISTEN " + channel_).c_str());
    const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    std::string error = ok ? "" : error_text(trimmed(PQerrorMessage(conn_)));
    PQclear(r);
    if (!ok) {
      lost();
      throw std::runtime_error(std::string(what) + " failed: LISTEN on " + display_ + ": " + error);
    }
  }
  if (backoff_.count() > 0) {
    log_event(spdlog::level::info, "PostgreSQL connection restored", {{"store", display_}});
  }
  StoreConnectivity::process().connected(cut_off_);
  cut_off_ = false;
  backoff_ = std::chrono::milliseconds(0);
  return conn_;
}

PgResult PgConnection::exec(std::string_view what, const std::string& sql, const PgParams& params) {
  PGconn* conn = connected(what);
  std::vector<const char*> values = params.pointers();
  PGresult* raw = PQexecParams(conn, sql.c_str(), static_cast<int>(values.size()), nullptr,
                               values.data(), nullptr, nullptr, 0);
  return checked(what, conn, raw);
}

PgResult PgConnection::exec_prepared(std::string_view what, const std::string& name,
                                     const std::string& sql, const PgParams& params) {
  PGconn* conn = connected(what);
  if (!prepared_.contains(name)) {
    checked(what, conn,
            PQprepare(conn, name.c_str(), sql.c_str(), static_cast<int>(params.size()), nullptr));
    prepared_.insert(name);
  }
  std::vector<const char*> values = params.pointers();
  PGresult* raw = PQexecPrepared(conn, name.c_str(), static_cast<int>(values.size()), values.data(),
                                 nullptr, nullptr, 0);
  return checked(what, conn, raw);
}

void PgConnection::exec_script(std::string_view what, const std::string& sql) {
  PGconn* conn = connected(what);
  checked(what, conn, PQexec(conn, sql.c_str()));
}

PgResult PgConnection::checked(std::string_view what, PGconn* conn, PGresult* raw) {
  PgResult result(raw);
  const ExecStatusType status = raw == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(raw);
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return result;
  const char* state = raw == nullptr ? nullptr : PQresultErrorField(raw, PG_DIAG_SQLSTATE);
  const std::string sqlstate = state == nullptr ? "" : state;
  std::string message = std::string(what) + " failed on " + display_ + ": " +
                        error_text(trimmed(PQerrorMessage(conn)));
  if (PQstatus(conn) == CONNECTION_BAD) {
    log_event(spdlog::level::warn, "PostgreSQL connection lost; reconnecting",
              {{"store", display_}});
    lost();
    throw std::runtime_error(message);
  }
  if (sqlstate == "40001" || sqlstate == "40P01") throw RetryableError(message);
  throw std::runtime_error(message);
}

void PgConnection::write(std::string_view what, const std::function<void()>& body) {
  transaction(what, "BEGIN", body);
}

void PgConnection::read_snapshot(std::string_view what, const std::function<void()>& body) {
  transaction(what, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", body);
}

void PgConnection::transaction(std::string_view what, const char* begin,
                               const std::function<void()>& body) {
  if (in_transaction_) {
    body();  // part of the enclosing transaction, which commits or rolls back
    return;
  }
  for (int attempt = 1;; ++attempt) {
    exec(what, begin);
    in_transaction_ = true;
    try {
      body();
      in_transaction_ = false;
      exec(what, "COMMIT");
      return;
    } catch (const RetryableError&) {
      in_transaction_ = false;
      if (conn_ != nullptr) PQclear(PQexec(conn_, "ROLLBACK"));
      if (attempt >= 5) throw;
    } catch (...) {
      in_transaction_ = false;
      if (conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK) PQclear(PQexec(conn_, "ROLLBACK"));
      throw;
    }
  }
}

bool PgConnection::take_notifications() {
  bool news = false;
  const int self = PQbackendPID(conn_);
  while (PGnotify* n = PQnotifies(conn_)) {
    if (n->be_pid != self) news = true;  // our own commits are no news
    PQfreemem(n);
  }
  return news;
}

bool PgConnection::wait_for_notification(std::chrono::milliseconds timeout, int interrupt_fd) {
  PGconn* conn = connected("waiting for new jobs");
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (PQconsumeInput(conn) == 0) {
      lost();
      throw std::runtime_error("waiting for new jobs failed on " + display_ + ": " +
                               error_text(trimmed(PQerrorMessage(conn))));
    }
    if (take_notifications()) return true;
    const auto left =
        std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd watched[2] = {{PQsocket(conn), POLLIN, 0}, {interrupt_fd, POLLIN, 0}};
    const int count = interrupt_fd >= 0 ? 2 : 1;
    const int ready = ::poll(watched, count, static_cast<int>(left.count()));
    if (ready > 0 && count == 2 && (watched[1].revents & POLLIN) != 0) return false;
  }
}

}  // namespace webhook::store
