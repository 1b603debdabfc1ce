#include "tests/support/sync_counting_vfs.h"

#include <stdexcept>

namespace webhook::testing {
namespace {

// Our file: the real VFS's file follows it in the same allocation (szOsFile covers both).
struct CountingFile {
  sqlite3_file base;
  sqlite3_file* real;
  std::atomic<int>* wal_syncs;  // null for files that are not WALs
};

// The object whose VFS is registered (one at a time); its xOpen finds it here, as the
// VFS's pAppData stays the real VFS's for the methods copied from it.
SyncCountingVfs* current = nullptr;

sqlite3_file* real(sqlite3_file* file) { return reinterpret_cast<CountingFile*>(file)->real; }

int file_close(sqlite3_file* f) { return real(f)->pMethods->xClose(real(f)); }
int file_read(sqlite3_file* f, void* buffer, int amount, sqlite3_int64 offset) {
  return real(f)->pMethods->xRead(real(f), buffer, amount, offset);
}
int file_write(sqlite3_file* f, const void* buffer, int amount, sqlite3_int64 offset) {
  return real(f)->pMethods->xWrite(real(f), buffer, amount, offset);
}
int file_truncate(sqlite3_file* f, sqlite3_int64 size) {
  return real(f)->pMethods->xTruncate(real(f), size);
}
int file_sync(sqlite3_file* f, int flags) {
  auto* counting = reinterpret_cast<CountingFile*>(f);
  if (counting->wal_syncs) ++*counting->wal_syncs;
  return real(f)->pMethods->xSync(real(f), flags);
}
int file_size(sqlite3_file* f, sqlite3_int64* size) {
  return real(f)->pMethods->xFileSize(real(f), size);
}
int file_lock(sqlite3_file* f, int level) { return real(f)->pMethods->xLock(real(f), level); }
int file_unlock(sqlite3_file* f, int level) { return real(f)->pMethods->xUnlock(real(f), level); }
int file_check_reserved(sqlite3_file* f, int* out) {
  return real(f)->pMethods->xCheckReservedLock(real(f), out);
}
int file_control(sqlite3_file* f, int op, void* arg) {
  return real(f)->pMethods->xFileControl(real(f), op, arg);
}
int file_sector_size(sqlite3_file* f) { return real(f)->pMethods->xSectorSize(real(f)); }
int file_device(sqlite3_file* f) { return real(f)->pMethods->xDeviceCharacteristics(real(f)); }
int file_shm_map(sqlite3_file* f, int page, int size, int extend, void volatile** out) {
  return real(f)->pMethods->xShmMap(real(f), page, size, extend, out);
}
int file_shm_lock(sqlite3_file* f, int offset, int n, int flags) {
  return real(f)->pMethods->xShmLock(real(f), offset, n, flags);
}
void file_shm_barrier(sqlite3_file* f) { real(f)->pMethods->xShmBarrier(real(f)); }
int file_shm_unmap(sqlite3_file* f, int remove) {
  return real(f)->pMethods->xShmUnmap(real(f), remove);
}
int file_fetch(sqlite3_file* f, sqlite3_int64 offset, int amount, void** out) {
  return real(f)->pMethods->xFetch(real(f), offset, amount, out);
}
int file_unfetch(sqlite3_file* f, sqlite3_int64 offset, void* page) {
  return real(f)->pMethods->xUnfetch(real(f), offset, page);
}

const sqlite3_io_methods kMethods = {
    3,           file_close,   file_read,     file_write,          file_truncate,  file_sync,
    file_size,   file_lock,    file_unlock,   file_check_reserved, file_control,   file_sector_size,
    file_device, file_shm_map, file_shm_lock, file_shm_barrier,    file_shm_unmap, file_fetch,
    file_unfetch};

}  // namespace

SyncCountingVfs::SyncCountingVfs() : real_(sqlite3_vfs_find(nullptr)) {
  if (real_ == nullptr) throw std::runtime_error("SQLite has no default VFS");
  vfs_ = *real_;  // its other methods work unchanged on a copy (same pAppData)
  vfs_.pNext = nullptr;
  vfs_.zName = "webhook-sync-counting";
  vfs_.szOsFile = static_cast<int>(sizeof(CountingFile)) + real_->szOsFile;
  vfs_.xOpen = &SyncCountingVfs::open;
  current = this;
  if (sqlite3_vfs_register(&vfs_, 1) != SQLITE_OK) {
    throw std::runtime_error("cannot register the sync-counting VFS");
  }
}

SyncCountingVfs::~SyncCountingVfs() {
  sqlite3_vfs_unregister(&vfs_);
  sqlite3_vfs_register(real_, 1);  // the default again
  current = nullptr;
}

int SyncCountingVfs::open(sqlite3_vfs*, const char* name, sqlite3_file* file, int flags,
                          int* out_flags) {
  SyncCountingVfs* self = current;
  auto* counting = reinterpret_cast<CountingFile*>(file);
  counting->base.pMethods = nullptr;
  counting->real = reinterpret_cast<sqlite3_file*>(counting + 1);
  const bool wal = (flags & SQLITE_OPEN_WAL) != 0;
  counting->wal_syncs = wal ? &self->wal_syncs_ : nullptr;
  int rc = self->real_->xOpen(self->real_, name, counting->real, flags, out_flags);
  if (rc == SQLITE_OK) counting->base.pMethods = &kMethods;
  return rc;
}

}  // namespace webhook::testing
