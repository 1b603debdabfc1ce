// docker/Dockerfile, read instruction by instruction (no Docker engine here): the image
// properties operators rely on, and the entrypoint that picks the program.
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "common/setting_table.h"
#include "tests/deploy/deploy_support.h"

namespace webhook::testing {
namespace {

std::vector<Instruction> runtime_stage() {
  auto stages = dockerfile_stages(read_text(source_file("docker/Dockerfile")));
  if (stages.size() < 2)
    throw std::runtime_error("docker/Dockerfile: expected a build and a runtime stage");
  return stages.back();
}

std::vector<std::string> all(const std::vector<Instruction>& stage, const std::string& keyword) {
  std::vector<std::string> out;
  for (const auto& ins : stage) {
    if (ins.keyword == keyword) out.push_back(ins.arguments);
  }
  return out;
}

TEST(DockerfileTest, BuildsWithTheInstallScriptAndRunsOnSlim) {
  auto stages = dockerfile_stages(read_text(source_file("docker/Dockerfile")));
  ASSERT_EQ(stages.size(), 2u);
  EXPECT_TRUE(stages[0][0].arguments.starts_with("debian:bookworm AS build"))
      << stages[0][0].arguments;
  bool uses_script = false;
  for (const auto& run : all(stages[0], "RUN")) {
    uses_script = uses_script || run.find("scripts/install-deps.sh") != std::string::npos;
  }
  EXPECT_TRUE(uses_script);
  EXPECT_TRUE(stages[1][0].arguments.starts_with("debian:bookworm-slim")) << stages[1][0].arguments;
}

TEST(DockerfileTest, RunsAsAFixedNonRootUser) {
  auto users = all(runtime_stage(), "USER");
  ASSERT_EQ(users.size(), 1u);
  std::string uid = users[0].substr(0, users[0].find(':'));
  ASSERT_FALSE(uid.empty());
  EXPECT_TRUE(std::all_of(uid.begin(), uid.end(), ::isdigit)) << "numeric UID: " << users[0];
  EXPECT_NE(std::stoi(uid), 0);
}

TEST(DockerfileTest, KeepsTheDatabaseInTheVolume) {
  auto stage = runtime_stage();
  auto volumes = all(stage, "VOLUME");
  ASSERT_EQ(volumes.size(), 1u);
  auto paths = nlohmann::json::parse(volumes[0]);
  ASSERT_EQ(paths.size(), 1u);
  std::string volume = paths[0];
  bool found = false;
  for (const auto& env : all(stage, "ENV")) {
    auto eq = env.find("WEBHOOK_DATABASE_PATH=");
    if (eq == std::string::npos) continue;
    std::string path = words(env.substr(eq + 22)).at(0);
    EXPECT_TRUE(path.starts_with(volume + "/")) << path << " is outside " << volume;
    found = true;
  }
  EXPECT_TRUE(found) << "WEBHOOK_DATABASE_PATH is not set";
}

TEST(DockerfileTest, ExecFormEntrypointSigtermAndHealthcheck) {
  auto stage = runtime_stage();
  auto entrypoint = all(stage, "ENTRYPOINT");
  ASSERT_EQ(entrypoint.size(), 1u);
  auto argv = nlohmann::json::parse(entrypoint[0]);  // throws unless exec form
  ASSERT_TRUE(argv.is_array());
  EXPECT_EQ(all(stage, "STOPSIGNAL"), std::vector<std::string>{"SIGTERM"});
  auto health = all(stage, "HEALTHCHECK");
  ASSERT_EQ(health.size(), 1u);
  auto cmd = health[0].find("CMD ");
  ASSERT_NE(cmd, std::string::npos);
  auto health_argv = nlohmann::json::parse(health[0].substr(cmd + 4));
  EXPECT_EQ(health_argv[0], argv[0]);
  EXPECT_EQ(health_argv[1], "health");
  // The entrypoint's health branch is webhookctl health.
  EXPECT_NE(read_text(source_file("docker/entrypoint.sh")).find("webhookctl health --process"),
            std::string::npos);
}

TEST(DockerfileTest, EntrypointRunsTheProgramItsArgumentNames) {
  struct stat st {};
  ASSERT_EQ(::stat(source_file("docker/entrypoint.sh").c_str(), &st), 0);
  EXPECT_TRUE(st.st_mode & S_IXUSR) << "docker/entrypoint.sh must be executable";

  std::string ctl_dir;
  for (const auto& p : built_programs()) {
    if (p.name == "webhookctl") ctl_dir = std::filesystem::path(p.built_path).parent_path();
  }
  ASSERT_FALSE(ctl_dir.empty());
  std::map<std::string, std::string> env{{"PATH", ctl_dir + ":/usr/bin:/bin"}};
  CommandResult r = run_command(
      {source_file("docker/entrypoint.sh"), "webhookctl", "settings", "--env-example"}, env);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, settings_env_example());

  // Anything else runs as given, so `docker run -it IMAGE sh` works.
  r = run_command({source_file("docker/entrypoint.sh"), "echo", "hello"}, env);
  EXPECT_EQ(r.out, "hello\n");
}

}  // namespace
}  // namespace webhook::testing
