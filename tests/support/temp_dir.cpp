#include "tests/support/temp_dir.h"

#include <fstream>
#include <stdexcept>
#include <system_error>

#include <stdlib.h>

namespace webhook::testing {

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "webhook-test-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::write(const std::string& name, const std::string& content) const {
  std::string p = file(name);
  std::ofstream out(p, std::ios::binary);
  out << content;
  if (!out) throw std::runtime_error("cannot write " + p);
  return p;
}

}  // namespace webhook::testing
