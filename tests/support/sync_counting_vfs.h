// An SQLite VFS that passes everything to the default one and counts the fsyncs (xSync) of
// WAL files, so a test can see which commits wait for the disk. While an object lives it is
// the default VFS of the process; one at a time.
#pragma once

#include <sqlite3.h>

#include <atomic>

namespace webhook::testing {

class SyncCountingVfs {
 public:
  SyncCountingVfs();
  ~SyncCountingVfs();
  SyncCountingVfs(const SyncCountingVfs&) = delete;
  SyncCountingVfs& operator=(const SyncCountingVfs&) = delete;

  // fsyncs of any "-wal" file since the object was made or reset().
  int wal_syncs() const { return wal_syncs_.load(); }
  void reset() { wal_syncs_ = 0; }

 private:
  static int open(sqlite3_vfs* vfs, const char* name, sqlite3_file* file, int flags,
                  int* out_flags);

  sqlite3_vfs* real_ = nullptr;
  sqlite3_vfs vfs_{};
  std::atomic<int> wal_syncs_{0};
};

}  // namespace webhook::testing
