// A fresh directory under /tmp for one test, removed with everything in it when the object
// goes out of scope. Not thread-safe; one per test.
#pragma once

#include <filesystem>
#include <string>

namespace webhook::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  // Writes `content` to `name` inside the directory and returns its path.
  std::string write(const std::string& name, const std::string& content) const;

 private:
  std::filesystem::path path_;
};

}  // namespace webhook::testing
