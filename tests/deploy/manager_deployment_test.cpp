// The image as OpenCTI's connector manager runs it: one container, the image's default
// command, and an environment made of the schema's defaults, the operator's answers to the
// form and what the platform and the manager add (OPENCTI_URL, OPENCTI_TOKEN, CONNECTOR_ID,
// CONNECTOR_NAME, CONNECTOR_TYPE, OPENCTI_CONFIG_HASH). No Docker engine here: the entrypoint
// runs on the host with the built programs on PATH, against a fake OpenCTI and a receiver.
#include <csignal>
#include <set>
#include <utility>

#include <nlohmann/json.hpp>

#include "common/connector_config_schema.h"
#include "tests/deploy/deploy_support.h"
#include "tests/support/fake_opencti.h"
#include "tests/support/test_receiver.h"

namespace webhook::testing {
namespace {

using nlohmann::json;
using std::chrono::seconds;

const char* const kConnectorId = "3c1d9a5e-1f0b-4c39-9d53-8a4a2f5c7e10";

// The built programs first, as the image's /usr/local/bin.
std::string programs_path() {
  std::string path;
  for (const auto& p : built_programs()) {
    path += std::filesystem::path(p.built_path).parent_path().string() + ":";
  }
  return path + "/usr/bin:/bin";
}

// The image's ENTRYPOINT and CMD, as Docker joins them when no command is given.
std::vector<std::string> default_command() {
  std::vector<std::string> argv{source_file("docker/entrypoint.sh")};
  auto stages = dockerfile_stages(read_text(source_file("docker/Dockerfile")));
  for (const auto& ins : stages.back()) {
    if (ins.keyword != "CMD") continue;
    for (const auto& word : json::parse(ins.arguments)) argv.push_back(word);
  }
  return argv;
}

// What the manager passes: every default of the schema as text (the platform's
// getDefaultValueAsString), then the form's values, then the platform's own keys.
std::map<std::string, std::string> manager_environment(
    const FakeOpencti& opencti, const std::map<std::string, std::string>& form,
    const TempDir& volume) {
  json schema = json::parse(read_text(source_file("__metadata__/connector_config_schema.json")));
  std::map<std::string, std::string> env;
  for (const auto& [name, property] : schema["properties"].items()) {
    if (!property.contains("default")) continue;
    const json& d = property["default"];
    env[name] = d.is_string() ? d.get<std::string>() : d.dump();
  }
  for (const auto& [name, value] : form) env[name] = value;
  env["CONNECTOR_ID"] = kConnectorId;
  env["CONNECTOR_NAME"] = "Webhook to the SOAR";
  env["CONNECTOR_TYPE"] = "STREAM";
  env["OPENCTI_TOKEN"] = opencti.token();
  env["OPENCTI_URL"] = opencti.url();
  env["OPENCTI_CONFIG_HASH"] = "0f9c2b7d";
  // The image's volume; this host has no /var/lib/opencti-webhook to write to.
  EXPECT_EQ(env["WEBHOOK_DATABASE_PATH"], std::string(kImageDatabasePath));
  env["WEBHOOK_DATABASE_PATH"] = (volume.path() / "webhook.db").string();
  env["PATH"] = programs_path();
  return env;
}

std::map<std::string, std::string> users_form(const TestReceiver& receiver) {
  return {{"WEBHOOK_GRAPHQL_QUERY",
           "{{users(filters:{{mode:and,filters:[{{key:\"created_at\",operator:gt,values:["
           "\"LAST_POLL_TIME\"]}}],filterGroups:[]}}){{edges{{node{{user_email}}}}}}}}"},
          {"WEBHOOK_GRAPHQL_RETURNED_DATA_LOCATION", "['data']['users']['edges']"},
          {"WEBHOOK_URL", receiver.url("/users") + "?email={item['node']['user_email']}"}};
}

TEST(ManagerDeploymentTest, OneContainerPollsDeliversRegistersAndStopsOnSigterm) {
  FakeOpencti opencti;
  int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  opencti.records().add("users", FakeRecords::user("u-1", "ada@example.org", now - 2000));
  TestReceiver receiver;
  TempDir volume;
  ChildProcess container(default_command(),
                         manager_environment(opencti, users_form(receiver), volume),
                         (volume.path() / "container.log").string());

  // The poller found the user and the dispatcher delivered it: both run in the container.
  ASSERT_TRUE(receiver.wait_for_count(1, seconds(60))) << container.output();
  EXPECT_EQ(receiver.requests()[0].target, "/users?email=ada@example.org");
  // With the manager's CONNECTOR_ID the poller registers, so the platform sees it alive.
  EXPECT_TRUE(
      eventually([&] { return opencti.connectors().find(kConnectorId).has_value(); }, seconds(30)))
      << container.output();
  EXPECT_EQ(opencti.connectors().find(kConnectorId)->name, "Webhook to the SOAR");

  // The manager stops a connector with SIGTERM: both processes stop cleanly, exit 0.
  container.signal(SIGTERM);
  EXPECT_EQ(container.wait_for(seconds(60)), 0) << container.output();
  std::string log = container.output();
  std::set<std::pair<std::string, std::string>> events;  // {process, message}
  for (const auto& line : split_lines(log)) {
    json event = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!event.is_object()) continue;
    events.insert({event["attributes"].value("process", ""), event.value("message", "")});
  }
  EXPECT_TRUE(events.count({"poller", "stopped"})) << log;
  EXPECT_TRUE(events.count({"dispatcher", "dispatcher stopped"})) << log;
  EXPECT_EQ(log.find(opencti.token()), std::string::npos) << "the token is in the logs";
}

TEST(ManagerDeploymentTest, ABadSettingEndsTheContainerWithExitCode2) {
  FakeOpencti opencti;
  TestReceiver receiver;
  TempDir volume;
  auto form = users_form(receiver);
  form["WEBHOOK_URL"] = "http://receiver/{item['node']";  // does not compile
  ChildProcess container(default_command(), manager_environment(opencti, form, volume),
                         (volume.path() / "container.log").string());
  // The poller refuses to start; the entrypoint stops the dispatcher and waits for it, so
  // the container ends (and the manager shows it failed) instead of half running.
  EXPECT_EQ(container.wait_for(seconds(60)), 2) << container.output();
  EXPECT_NE(container.output().find("WEBHOOK_URL"), std::string::npos) << container.output();
}

}  // namespace
}  // namespace webhook::testing
