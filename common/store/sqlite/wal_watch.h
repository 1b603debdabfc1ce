// Tells the dispatcher's connection that another connection (the poller, another process)
// may have committed, without asking SQLite: an inotify watch on the database's folder that
// becomes readable when the database file or its -wal file is written (a commit in WAL mode
// appends to the -wal file). Only a hint: the caller still reads PRAGMA data_version to know.
// Owns the inotify descriptor. One thread at a time.
#pragma once

#include <string>

namespace webhook::store {

class WalWatch {
 public:
  // Watches the folder of `database_path`. When inotify is unavailable (no descriptor left,
  // a folder that cannot be watched) the watch is off: fd() is -1 and callers probe instead.
  explicit WalWatch(const std::string& database_path);
  ~WalWatch();
  WalWatch(const WalWatch&) = delete;
  WalWatch& operator=(const WalWatch&) = delete;

  // Readable (poll) once a watched file was written since the last drain(); -1 when off.
  int fd() const { return fd_; }
  // Reads every pending event; true when one of them was about the database or its -wal
  // file (other files in the folder do not count).
  bool drain();

 private:
  int fd_ = -1;
  std::string database_name_;  // file name only, as inotify reports it
  std::string wal_name_;
};

}  // namespace webhook::store
