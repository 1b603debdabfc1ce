// One SQLite connection configured for the job store: the file created with mode 0640 (and
// its folder if missing), WAL, the chosen synchronous mode, a busy timeout and foreign keys;
// plus write transactions that retry on SQLITE_BUSY. Owns its SQLite::Database; used by one
// thread at a time, which is why it is opened without SQLite's own connection mutex
// (SQLITE_OPEN_NOMUTEX: every bind, step, column and reset took and released it).
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include <SQLiteCpp/Database.h>

#include "common/store/sqlite/sqlite_store.h"

namespace webhook::store {

class SqliteConnection {
 public:
  // Opens (or, when options.create_if_missing, creates) options.path. Throws
  // std::runtime_error naming the file and what failed.
  explicit SqliteConnection(const SqliteOptions& options);

  SQLite::Database& db() { return db_; }
  const std::string& path() const { return path_; }

  // Runs `body` inside BEGIN IMMEDIATE … COMMIT. When the database is busy beyond the busy
  // timeout (or SQLite reports SQLITE_BUSY without waiting, as WAL recovery can), the
  // transaction is rolled back and run again from the start, for up to kWriteDeadline.
  // Any other error rolls back and propagates. `what` names the operation in errors.
  // Called inside another write's body, it runs `body` in that transaction (so several
  // operations commit together) and leaves retries and errors to the outer write.
  // Durability::kNoSync commits without waiting for the disk even when the connection's
  // synchronous mode is FULL: after a crash of the machine (not of the process) the
  // transaction may be gone, until the next durable commit, whose fsync of the WAL also
  // covers it. For writes whose loss only undoes them, e.g. a claim.
  enum class Durability { kDurable, kNoSync };
  void write(std::string_view what, const std::function<void()>& body,
             Durability durability = Durability::kDurable);

  // Runs `body`, a read outside any write, again from the start while SQLite answers BUSY,
  // for up to kWriteDeadline: at start-up, while another process creates the file, switches
  // it to WAL or runs recovery, even a read of user_version can be refused, before or
  // without the busy handler. Other errors propagate; `what` names the read in the error.
  void read(std::string_view what, const std::function<void()>& body);

  // Tells the test hook SqliteOptions::faults, if any, that a named point is reached.
  void fault_point(std::string_view point) const {
    if (faults_ != nullptr) faults_->reached(point);
  }

  // Test hook for end-to-end tests of a full disk: when this environment variable names a
  // file holding a page count, every write transaction first applies it as
  // `PRAGMA max_page_count`, so a test can fill the "disk" and give the space back while the
  // processes run. Not a setting: operators never set it.
  static constexpr const char* kTestPageLimitVariable = "TEST_WEBHOOK_MAX_PAGE_COUNT_FILE";

  // How long a write keeps retrying on SQLITE_BUSY before giving up with an error.
  static constexpr std::chrono::seconds kWriteDeadline{60};

 private:
  void apply_test_page_limit();

  std::string path_;
  SQLite::Database db_;
  std::string synchronous_;  // the configured mode
  bool relaxed_ = false;     // the connection is at NORMAL for a kNoSync write
  FaultPoints* faults_;
  bool in_write_ = false;  // inside write()'s body
};

// True when `e` is SQLITE_BUSY or SQLITE_LOCKED (any extended code).
bool is_busy(const SQLite::Exception& e);

// Throws std::runtime_error when `db`, at schema `version` 0, already holds tables: another
// application's database (WEBHOOK_DATABASE_PATH pointing at the wrong file), which we must
// neither migrate nor write to. Our migrations set user_version in the transaction that
// creates our tables, so none of ours is ever at version 0 with tables.
void refuse_if_foreign(SQLite::Database& db, int version, const std::string& path);

}  // namespace webhook::store
