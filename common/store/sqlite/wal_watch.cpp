#include "common/store/sqlite/wal_watch.h"

#include <sys/inotify.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

namespace webhook::store {

WalWatch::WalWatch(const std::string& database_path) {
  const std::filesystem::path path(database_path);
  database_name_ = path.filename().string();
  wal_name_ = database_name_ + "-wal";
  std::string folder = path.parent_path().string();
  if (folder.empty()) folder = ".";
  fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd_ < 0) return;
  // The folder rather than the -wal file itself: the last connection to close deletes the
  // -wal file and the next one creates it again, which a watch on the file would miss.
  // IN_MODIFY is every write(); IN_CREATE/IN_MOVED_TO a -wal file made anew.
  if (inotify_add_watch(fd_, folder.c_str(), IN_MODIFY | IN_CREATE | IN_MOVED_TO) < 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

WalWatch::~WalWatch() {
  if (fd_ >= 0) ::close(fd_);
}

bool WalWatch::drain() {
  if (fd_ < 0) return false;
  bool relevant = false;
  alignas(inotify_event) char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd_, buffer, sizeof buffer);
    if (n <= 0) break;  // EAGAIN: drained
    for (ssize_t at = 0; at < n;) {
      inotify_event event;
      std::memcpy(&event, buffer + at, sizeof event);
      const char* name = buffer + at + sizeof(inotify_event);
      // An overflowed queue lost events, which may have been ours.
      if ((event.mask & IN_Q_OVERFLOW) != 0 ||
          (event.len > 0 && (wal_name_ == name || database_name_ == name))) {
        relevant = true;
      }
      at += static_cast<ssize_t>(sizeof(inotify_event) + event.len);
    }
  }
  return relevant;
}

}  // namespace webhook::store
