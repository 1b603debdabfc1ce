// The runtime image installs only the packages docker/Dockerfile names (and what they and
// debian:bookworm-slim bring). These tests make sure that is enough: every shared library
// the installed programs load must come from one of those packages.
#include <map>
#include <set>

#include "tests/deploy/deploy_support.h"

namespace webhook::testing {
namespace {

struct PackageInfo {
  bool essential = false;
  std::string priority;
  std::vector<std::vector<std::string>> depends;  // each entry: alternatives
  std::vector<std::string> provides;
};

// "libc6 (>= 2.34), debconf | debconf-2.0" -> {{libc6}, {debconf, debconf-2.0}}
std::vector<std::vector<std::string>> parse_relations(const std::string& text) {
  std::vector<std::vector<std::string>> out;
  std::stringstream groups(text);
  for (std::string group; std::getline(groups, group, ',');) {
    std::vector<std::string> alternatives;
    std::stringstream alts(group);
    for (std::string alt; std::getline(alts, alt, '|');) {
      alt = trim(alt);
      alt = alt.substr(0, alt.find_first_of(" (:"));
      if (!alt.empty()) alternatives.push_back(alt);
    }
    if (!alternatives.empty()) out.push_back(alternatives);
  }
  return out;
}

// Every installed package of this machine (Debian 12, like the image).
std::map<std::string, PackageInfo> installed_packages() {
  CommandResult r =
      run_command({"dpkg-query", "-W", "-f",
                   "${db:Status-Status}\t${Package}\t${Essential}\t${Priority}\t${Provides}\t"
                   "${Pre-Depends}\t${Depends}\n"});
  if (r.exit_code != 0) throw std::runtime_error("dpkg-query failed: " + r.err);
  std::map<std::string, PackageInfo> packages;
  for (const auto& line : split_lines(r.out)) {
    std::vector<std::string> f;
    std::stringstream fields(line);
    for (std::string field; std::getline(fields, field, '\t');) f.push_back(field);
    f.resize(7);
    if (f[0] != "installed") continue;
    PackageInfo& p = packages[f[1]];
    p.essential = f[2] == "yes";
    p.priority = f[3];
    for (const auto& alts : parse_relations(f[4])) p.provides.push_back(alts[0]);
    for (auto& alts : parse_relations(f[5])) p.depends.push_back(alts);
    for (auto& alts : parse_relations(f[6])) p.depends.push_back(alts);
  }
  return packages;
}

// `roots` and everything they depend on, as apt would install it (first alternative that
// exists; a virtual package brings its providers).
std::set<std::string> closure(const std::map<std::string, PackageInfo>& packages,
                              const std::set<std::string>& roots) {
  std::map<std::string, std::vector<std::string>> providers;
  for (const auto& [name, info] : packages) {
    for (const auto& v : info.provides) providers[v].push_back(name);
  }
  std::set<std::string> seen;
  std::vector<std::string> to_visit(roots.begin(), roots.end());
  auto resolve = [&](const std::string& name) -> std::vector<std::string> {
    if (packages.count(name)) return {name};
    if (auto it = providers.find(name); it != providers.end()) return it->second;
    return {};
  };
  while (!to_visit.empty()) {
    std::string name = to_visit.back();
    to_visit.pop_back();
    if (!seen.insert(name).second) continue;
    auto it = packages.find(name);
    if (it == packages.end()) continue;
    for (const auto& alternatives : it->second.depends) {
      for (const auto& alt : alternatives) {
        auto found = resolve(alt);
        if (found.empty()) continue;
        to_visit.insert(to_visit.end(), found.begin(), found.end());
        break;
      }
    }
  }
  return seen;
}

// What debian:bookworm-slim holds before the Dockerfile adds anything: a debootstrap
// minbase, i.e. the essential and required packages and apt, with their dependencies.
std::set<std::string> base_image_packages(const std::map<std::string, PackageInfo>& packages) {
  std::set<std::string> roots{"apt"};
  for (const auto& [name, info] : packages) {
    if (info.essential || info.priority == "required") roots.insert(name);
  }
  return closure(packages, roots);
}

// The packages named by the `apt-get install` of the Dockerfile's last (runtime) stage.
std::set<std::string> runtime_stage_packages() {
  auto stages = dockerfile_stages(read_text(source_file("docker/Dockerfile")));
  if (stages.empty()) throw std::runtime_error("docker/Dockerfile has no FROM");
  std::set<std::string> named;
  for (const auto& ins : stages.back()) {
    if (ins.keyword != "RUN") continue;
    auto w = words(ins.arguments);
    for (size_t i = 0; i + 1 < w.size(); ++i) {
      if (w[i] != "apt-get" || w[i + 1] != "install") continue;
      for (size_t j = i + 2; j < w.size() && w[j] != "&&" && w[j] != ";"; ++j) {
        if (!w[j].starts_with("-")) named.insert(w[j]);
      }
    }
  }
  return named;
}

// Shared libraries `binary` loads, as ldd resolves them on this machine.
std::vector<std::string> loaded_libraries(const std::string& binary) {
  CommandResult r = run_command({"ldd", binary});
  EXPECT_EQ(r.exit_code, 0) << "ldd " << binary << ": " << r.err;
  std::vector<std::string> libs;
  for (const auto& line : split_lines(r.out)) {
    auto w = words(line);
    if (w.empty() || w[0].starts_with("linux-vdso")) continue;
    EXPECT_EQ(line.find("not found"), std::string::npos) << binary << ": " << line;
    if (w.size() >= 3 && w[1] == "=>") {
      libs.push_back(w[2]);
    } else if (w[0].starts_with("/")) {
      libs.push_back(w[0]);  // the dynamic loader
    }
  }
  return libs;
}

// The package owning `path`. Debian 12 merged /lib into /usr/lib, and dpkg knows each file
// under the name its package shipped, so try the variants.
std::string owning_package(const std::string& path) {
  std::vector<std::string> candidates{path};
  std::string real = std::filesystem::canonical(path).string();
  candidates.push_back(real);
  for (const std::string& p : std::vector<std::string>{path, real}) {
    if (p.starts_with("/usr/")) {
      candidates.push_back(p.substr(4));
    } else {
      candidates.push_back("/usr" + p);
    }
  }
  for (const auto& candidate : candidates) {
    CommandResult r = run_command({"dpkg", "-S", candidate});
    if (r.exit_code != 0) continue;
    std::string first = split_lines(r.out).at(0);
    std::string package = first.substr(0, first.find(':'));  // "libc6:amd64: /lib/..."
    return package;
  }
  return {};
}

TEST(RuntimeLibrariesTest, EveryProgramTargetIsInstalled) {
  ScratchInstall install;
  auto programs = built_programs();
  ASSERT_FALSE(programs.empty()) << "CMake reported no program targets";
  for (const auto& program : programs) {
    EXPECT_TRUE(std::filesystem::exists(install / ("bin/" + program.name)))
        << program.name << " is built but has no install() rule";
  }
}

TEST(RuntimeLibrariesTest, RuntimeStageInstallsThePackageOfEveryLoadedLibrary) {
  ScratchInstall install;
  auto packages = installed_packages();
  std::set<std::string> named = runtime_stage_packages();
  ASSERT_FALSE(named.empty()) << "no apt-get install found in the Dockerfile's runtime stage";
  for (const auto& name : named) {
    EXPECT_TRUE(packages.count(name)) << "docker/Dockerfile installs '" << name
                                      << "', which is not a Debian 12 package installed here";
  }
  std::set<std::string> base = base_image_packages(packages);
  std::set<std::string> roots = base;
  roots.insert(named.begin(), named.end());
  std::set<std::string> in_image = closure(packages, roots);

  int checked = 0;
  bool needs_runtime_stage = false;
  for (const auto& entry : std::filesystem::directory_iterator(install / "bin")) {
    for (const auto& lib : loaded_libraries(entry.path().string())) {
      std::string package = owning_package(lib);
      ASSERT_FALSE(package.empty()) << lib << " (loaded by " << entry.path().filename().string()
                                    << ") belongs to no Debian package";
      EXPECT_TRUE(in_image.count(package))
          << entry.path().filename().string() << " loads " << lib << " from package " << package
          << ", which docker/Dockerfile's runtime stage does not install";
      needs_runtime_stage = needs_runtime_stage || !base.count(package);
      ++checked;
    }
  }
  EXPECT_GT(checked, 0);
  // Otherwise the check above would pass whatever the runtime stage installs.
  EXPECT_TRUE(needs_runtime_stage) << "every library comes from the base image?";
}

TEST(RuntimeLibrariesTest, BaseImageModelLeavesOutTheProjectsLibraries) {
  auto packages = installed_packages();
  std::set<std::string> base = base_image_packages(packages);
  EXPECT_TRUE(base.count("libc6"));
  EXPECT_TRUE(base.count("libstdc++6"));
  for (const char* library :
       {"libcurl4", "libyaml-cpp0.7", "libspdlog1.10", "libcpp-httplib0.11"}) {
    EXPECT_FALSE(base.count(library)) << library;
  }
}

}  // namespace
}  // namespace webhook::testing
