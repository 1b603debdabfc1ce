// docker/.env.example is generated from the setting table; these tests keep the committed
// file in step with it and check that it is an env file both Docker and systemd read.
#include "common/setting_table.h"
#include "tests/deploy/deploy_support.h"

namespace webhook::testing {
namespace {

std::string webhookctl() {
  for (const auto& p : built_programs()) {
    if (p.name == "webhookctl") return p.built_path;
  }
  throw std::runtime_error("webhookctl is not built");
}

TEST(EnvExampleTest, CommittedFileMatchesWebhookctlOutput) {
  CommandResult r = run_command({webhookctl(), "settings", "--env-example"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_text(source_file("docker/.env.example")), r.out)
      << "docker/.env.example is out of date: run `make env-example`";
}

TEST(EnvExampleTest, ListsEverySettingWithItsDefault) {
  std::string text = read_text(source_file("docker/.env.example"));
  for (const auto& spec : all_settings()) {
    std::string env(spec.env);
    if (spec.required_by != 0) {
      EXPECT_NE(text.find("\n" + env + "=\n"), std::string::npos) << env;
    } else {
      EXPECT_NE(text.find("\n#" + env + "=" + std::string(spec.default_value) + "\n"),
                std::string::npos)
          << env;
    }
  }
  // Nothing but comments, blank lines and assignments.
  for (const auto& line : split_lines(text)) {
    if (line.empty() || line.starts_with("#")) continue;
    EXPECT_NE(line.find('='), std::string::npos) << line;
  }
}

TEST(EnvExampleTest, SettingsRejectsBothOutputFormats) {
  CommandResult r = run_command({webhookctl(), "settings", "--markdown", "--env-example"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("exclude each other"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace webhook::testing
