// What the deployment tests share: the source tree's files, the programs CMake builds, a
// scratch installation of the project (`cmake --install` into a temporary prefix) and a
// reader for the Dockerfile's stages. Header-only, since tests/<folder> globs only tests.
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/child_process.h"
#include "tests/support/temp_dir.h"

namespace webhook::testing {

inline std::string source_file(const std::string& relative) {
  return std::string(WEBHOOK_SOURCE_DIR) + "/" + relative;
}

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

inline std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

inline std::string trim(std::string s) {
  auto not_space = [](unsigned char c) { return !std::isspace(c); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  return s;
}

struct Program {
  std::string name;  // the CMake target, also the installed file name
  std::string built_path;
};

// Every executable target CMake defines in poller/, dispatcher/ and ctl/.
inline std::vector<Program> built_programs() {
  std::vector<Program> programs;
  for (const auto& line : split_lines(read_text(WEBHOOK_PROGRAMS_FILE))) {
    auto tab = line.find('\t');
    if (tab == std::string::npos) continue;
    programs.push_back({line.substr(0, tab), line.substr(tab + 1)});
  }
  return programs;
}

// The project installed into a fresh temporary prefix, as `make install` would.
class ScratchInstall {
 public:
  ScratchInstall() {
    CommandResult r = run_command(
        {WEBHOOK_CMAKE_COMMAND, "--install", WEBHOOK_BINARY_DIR, "--prefix", dir_.path().string()});
    if (r.exit_code != 0) throw std::runtime_error("cmake --install failed:\n" + r.out + r.err);
  }
  std::filesystem::path prefix() const { return dir_.path(); }
  std::filesystem::path operator/(const std::string& relative) const {
    return dir_.path() / relative;
  }

 private:
  TempDir dir_;
};

// One Dockerfile instruction, continuation lines joined, e.g. {"RUN", "apt-get ..."}.
struct Instruction {
  std::string keyword;
  std::string arguments;
};

// The instructions of each stage (from one FROM to the next), comments left out.
inline std::vector<std::vector<Instruction>> dockerfile_stages(const std::string& text) {
  std::vector<std::vector<Instruction>> stages;
  std::string pending;
  auto flush = [&] {
    std::string line = trim(pending);
    pending.clear();
    if (line.empty()) return;
    auto space = line.find_first_of(" \t");
    Instruction ins{line.substr(0, space),
                    space == std::string::npos ? "" : trim(line.substr(space))};
    for (auto& c : ins.keyword) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (ins.keyword == "FROM") stages.emplace_back();
    if (!stages.empty()) stages.back().push_back(ins);
  };
  for (const auto& raw : split_lines(text)) {
    std::string line = trim(raw);
    if (line.starts_with("#")) continue;
    if (line.ends_with("\\")) {
      pending += line.substr(0, line.size() - 1) + " ";
      continue;
    }
    pending += line;
    flush();
  }
  flush();
  return stages;
}

inline std::vector<std::string> words(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

}  // namespace webhook::testing
