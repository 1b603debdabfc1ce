#include "common/store/sqlite/sqlite_connection.h"

#include <cstdlib>
#include <fstream>

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>
#include <stdexcept>
#include <thread>
#include <vector>

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>

namespace webhook::store {
namespace {

constexpr mode_t kFileMode = 0640;

// Makes sure the database file exists before SQLite opens it, so that we choose its mode
// (SQLite would create it 0644); the -wal and -shm files inherit the mode from it.
std::string prepare_file(const SqliteOptions& options) {
  namespace fs = std::filesystem;
  if (options.path.empty()) throw std::runtime_error("database path is empty");
  fs::path path(options.path);
  std::error_code ec;
  if (fs::exists(path, ec)) return options.path;
  if (!options.create_if_missing) {
    throw std::runtime_error("database file " + options.path +
                             " does not exist (set WEBHOOK_DATABASE_PATH or --database)");
  }
  if (path.has_parent_path()) {
    fs::create_directories(path.parent_path(), ec);
    if (ec) {
      throw std::runtime_error("cannot create folder " + path.parent_path().string() +
                               " for the database: " + ec.message());
    }
  }
  int fd = ::open(options.path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, kFileMode);
  if (fd < 0) {
    throw std::runtime_error("cannot create database file " + options.path + ": " +
                             std::strerror(errno));
  }
  // The umask may have removed bits we want (group read); set the mode exactly.
  int rc = ::fchmod(fd, kFileMode);
  int saved = errno;
  ::close(fd);
  if (rc != 0) {
    throw std::runtime_error("cannot set mode 0640 on " + options.path + ": " +
                             std::strerror(saved));
  }
  return options.path;
}

std::string checked_synchronous(const std::string& mode) {
  if (mode == "FULL" || mode == "NORMAL" || mode == "EXTRA") return mode;
  throw std::runtime_error("unknown SQLite synchronous mode '" + mode +
                           "' (expected FULL or NORMAL)");
}

}  // namespace

void refuse_if_foreign(SQLite::Database& db, int version, const std::string& path) {
  if (version != 0) return;
  SQLite::Statement tables(db,
                           "SELECT name FROM sqlite_master WHERE type = 'table' "
                           "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name");
  std::vector<std::string> names;
  while (tables.executeStep()) names.push_back(tables.getColumn(0).getString());
  if (names.empty()) return;
  std::string shown;
  for (std::size_t i = 0; i < names.size() && i < 3; ++i) shown += (i ? ", " : "") + names[i];
  if (names.size() > 3) shown += ", ...";
  throw std::runtime_error("database " + path + " belongs to another application: it has tables (" +
                           shown +
                           ") but not opencti-webhook's; check WEBHOOK_DATABASE_PATH; no table "
                           "was added to it");
}

bool is_busy(const SQLite::Exception& e) {
  int primary = e.getErrorCode() & 0xff;
  return primary == SQLITE_BUSY || primary == SQLITE_LOCKED;
}

SqliteConnection::SqliteConnection(const SqliteOptions& options)
    : path_(prepare_file(options)),
      // One thread at a time (see the header): SQLite's connection mutex would only cost
      // each call a lock and an unlock, 3,600 instructions a delivery on the dispatcher's.
      db_(path_, SQLite::OPEN_READWRITE | SQLite::OPEN_NOMUTEX,
          static_cast<int>(options.busy_timeout.count())),
      faults_(options.faults) {
  synchronous_ = checked_synchronous(options.synchronous);
  // Before anything is written: switching to WAL rewrites the file's header and creates the
  // -wal and -shm files, which another application's database must not get from us.
  read("reading the schema version",
       [&] { refuse_if_foreign(db_, db_.execAndGet("PRAGMA user_version").getInt(), path_); });
  // Switching to WAL takes a lock; on a brand-new file several processes may race for it
  // and SQLite may answer BUSY without calling the busy handler, so retry.
  read("switching to WAL mode", [&] { db_.exec("PRAGMA journal_mode = WAL"); });
  db_.exec("PRAGMA synchronous = " + synchronous_);
  db_.exec("PRAGMA foreign_keys = ON");
}

void SqliteConnection::read(std::string_view what, const std::function<void()>& body) {
  auto deadline = std::chrono::steady_clock::now() + kWriteDeadline;
  for (;;) {
    try {
      body();
      return;
    } catch (const SQLite::Exception& e) {
      if (!is_busy(e) || std::chrono::steady_clock::now() > deadline) {
        throw std::runtime_error(std::string(what) + " failed on " + path_ + ": " + e.what());
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

void SqliteConnection::apply_test_page_limit() {
  const char* file = std::getenv(kTestPageLimitVariable);
  if (file == nullptr || *file == '\0') return;
  std::ifstream in(file);
  int64_t pages = 0;
  if (in >> pages && pages > 0) db_.exec("PRAGMA max_page_count = " + std::to_string(pages));
}

void SqliteConnection::write(std::string_view what, const std::function<void()>& body,
                             Durability durability) {
  if (in_write_) {
    body();  // part of the enclosing transaction, which retries, reports and commits
    return;
  }
  apply_test_page_limit();
  // The mode applies at commit; NORMAL in WAL mode appends to the WAL without an fsync.
  // Every write sets the mode it needs, so a durable one never follows a kNoSync one at
  // NORMAL, and consecutive writes of one kind pay no pragma.
  const bool relax = durability == Durability::kNoSync && synchronous_ != "NORMAL";
  if (relax != relaxed_) {
    db_.exec(std::string("PRAGMA synchronous = ") + (relax ? "NORMAL" : synchronous_));
    relaxed_ = relax;
  }
  thread_local std::minstd_rand jitter(std::random_device{}());
  auto deadline = std::chrono::steady_clock::now() + kWriteDeadline;
  int backoff_ms = 1;
  for (;;) {
    try {
      SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
      in_write_ = true;
      struct Reset {
        bool& flag;
        ~Reset() { flag = false; }
      } reset{in_write_};
      body();
      tx.commit();
      return;
    } catch (const SQLite::Exception& e) {
      if (!is_busy(e) || std::chrono::steady_clock::now() > deadline) {
        throw std::runtime_error(std::string(what) + " failed on " + path_ + ": " + e.what());
      }
    }
    // Busy: back off a little (with jitter so that competing processes spread out).
    std::this_thread::sleep_for(std::chrono::milliseconds(1 + jitter() % backoff_ms));
    backoff_ms = std::min(backoff_ms * 2, 100);
  }
}

}  // namespace webhook::store
