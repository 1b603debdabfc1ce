// docker/docker-compose.yml, docker/compose.postgres.yml and the README's snippet for an existing
// OpenCTI stack, checked with Debian's docker-compose: `config` parses, validates and resolves a
// compose project without a Docker engine.
#include <yaml-cpp/yaml.h>

#include <fstream>

#include "common/setting_table.h"
#include "tests/deploy/deploy_support.h"

namespace webhook::testing {
namespace {

const char* const kVolumeMount = "webhook-data:/var/lib/opencti-webhook";

YAML::Node compose_config(const std::filesystem::path& dir, const std::vector<std::string>& files) {
  std::vector<std::string> argv{"docker-compose"};
  for (const auto& f : files) {
    argv.push_back("-f");
    argv.push_back((dir / f).string());  // .env and env_file are found beside the first file
  }
  argv.push_back("config");
  CommandResult r = run_command(argv);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return YAML::Load(r.out);
}

bool mounts_webhook_data(const YAML::Node& service) {
  for (const auto& v : service["volumes"]) {
    if (v.as<std::string>().starts_with(kVolumeMount)) return true;
  }
  return false;
}

std::string health_test(const YAML::Node& service) {
  std::string text;
  for (const auto& word : service["healthcheck"]["test"]) text += word.as<std::string>() + " ";
  return text;
}

TEST(ComposeFileTest, PollerAndDispatcherShareTheVolumeAndTheEnvFile) {
  // The layout an operator has: the compose file beside its .env, the repository above.
  TempDir project;
  std::filesystem::create_directories(project.path() / "docker");
  std::filesystem::copy_file(source_file("docker/docker-compose.yml"),
                             project.path() / "docker/docker-compose.yml");
  std::filesystem::copy_file(source_file("docker/.env.example"), project.path() / "docker/.env");

  YAML::Node config = compose_config(project.path(), {"docker/docker-compose.yml"});
  ASSERT_TRUE(config["services"]) << "no services";
  ASSERT_TRUE(config["volumes"]["webhook-data"]) << "the named volume webhook-data is missing";

  const std::map<std::string, std::string> expected{{"poller", "webhook-poller"},
                                                    {"dispatcher", "webhook-dispatcher"}};
  EXPECT_EQ(config["services"].size(), expected.size());
  std::string image;
  for (const auto& [name, program] : expected) {
    SCOPED_TRACE(name);
    YAML::Node service = config["services"][name];
    ASSERT_TRUE(service) << "service missing";
    EXPECT_EQ(service["command"][0].as<std::string>(), program);
    EXPECT_TRUE(mounts_webhook_data(service));
    EXPECT_EQ(service["restart"].as<std::string>(), "always");
    EXPECT_NE(health_test(service).find("webhookctl health --process " + name), std::string::npos)
        << health_test(service);
    if (image.empty()) image = service["image"].as<std::string>();
    EXPECT_EQ(service["image"].as<std::string>(), image) << "both services run one image";
    EXPECT_EQ(service["build"]["dockerfile"].as<std::string>(), "docker/Dockerfile");
    // The env file reached the container: every required setting, to be filled in.
    for (const auto& spec : all_settings()) {
      if (spec.required_by == 0) continue;
      EXPECT_TRUE(service["environment"][std::string(spec.env)]) << spec.env;
    }
  }
}

// docker/compose.postgres.yml in the operator's layout, with `extra_env` appended to .env.
CommandResult postgres_compose_config(const TempDir& project, const std::string& extra_env) {
  std::filesystem::create_directories(project.path() / "docker");
  std::filesystem::copy_file(source_file("docker/compose.postgres.yml"),
                             project.path() / "docker/compose.postgres.yml");
  std::ofstream(project.path() / "docker/.env")
      << read_text(source_file("docker/.env.example")) << extra_env;
  return run_command({"docker-compose", "-f",
                      (project.path() / "docker/compose.postgres.yml").string(), "config"});
}

TEST(ComposeFileTest, PostgresComposeWaitsForAHealthyServerAndScalesTheDispatcher) {
  TempDir project;
  const std::string password = "pw-from-the-env-file-5f1c";
  CommandResult r = postgres_compose_config(project, "POSTGRES_PASSWORD=" + password + "\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  YAML::Node config = YAML::Load(r.out);

  YAML::Node db = config["services"]["postgres"];
  ASSERT_TRUE(db) << "no postgres service";
  EXPECT_EQ(db["image"].as<std::string>(), "postgres:15");
  EXPECT_NE(health_test(db).find("pg_isready"), std::string::npos) << health_test(db);
  ASSERT_TRUE(config["volumes"]["postgres-data"]) << "the named volume postgres-data is missing";
  ASSERT_TRUE(db["volumes"]);
  EXPECT_TRUE(
      db["volumes"][0].as<std::string>().starts_with("postgres-data:/var/lib/postgresql/data"));
  EXPECT_EQ(db["environment"]["POSTGRES_PASSWORD"].as<std::string>(), password);
  EXPECT_FALSE(db["ports"]) << "the server is reached on the project's network only";

  for (const std::string name : {"poller", "dispatcher"}) {
    SCOPED_TRACE(name);
    YAML::Node service = config["services"][name];
    ASSERT_TRUE(service) << "service missing";
    EXPECT_EQ(service["command"][0].as<std::string>(), "webhook-" + name);
    EXPECT_EQ(service["depends_on"]["postgres"]["condition"].as<std::string>(), "service_healthy");
    EXPECT_EQ(service["restart"].as<std::string>(), "always");
    EXPECT_NE(health_test(service).find("webhookctl health --process " + name), std::string::npos);
    const std::string url = service["environment"]["WEBHOOK_DATABASE_URL"].as<std::string>();
    EXPECT_EQ(url, "postgresql://webhook@postgres:5432/webhook");
    EXPECT_EQ(url.find(password), std::string::npos) << "the password is not in the URL";
    // libpq reads PGPASSWORD: the password comes from .env, not from the image.
    EXPECT_EQ(service["environment"]["PGPASSWORD"].as<std::string>(), password);
  }
  // `docker compose up --scale dispatcher=3` needs a dispatcher Docker may start many times:
  // no fixed container name, no host port two of them would fight over.
  YAML::Node dispatcher = config["services"]["dispatcher"];
  EXPECT_FALSE(dispatcher["container_name"]);
  EXPECT_FALSE(dispatcher["ports"]);
  EXPECT_EQ(read_text(source_file("docker/Dockerfile")).find("PGPASSWORD"), std::string::npos)
      << "the image never holds the password";
}

// `docker compose up --scale poller=2 --scale dispatcher=3` (README, "Running on several
// hosts") starts each service several times: none may fix what two copies would share.
void expect_scalable(const YAML::Node& config) {
  for (const std::string name : {"poller", "dispatcher"}) {
    SCOPED_TRACE(name);
    YAML::Node service = config["services"][name];
    ASSERT_TRUE(service) << "service missing";
    EXPECT_FALSE(service["container_name"]) << "two copies cannot have one name";
    // A published host port binds once per host; `expose` (the project network) is per copy.
    EXPECT_FALSE(service["ports"]) << "a fixed host port collides between copies";
    // Each copy names itself after its container's host name (see make_worker_name).
    EXPECT_FALSE(service["hostname"]) << "copies would share one name in leases and attempts";
    EXPECT_TRUE(service["expose"]) << "the metrics port stays reachable on the network";
  }
}

TEST(ComposeFileTest, BothComposeFilesLetThePollerAndTheDispatcherBeScaled) {
  {
    SCOPED_TRACE("docker-compose.yml");
    TempDir project;
    std::filesystem::create_directories(project.path() / "docker");
    std::filesystem::copy_file(source_file("docker/docker-compose.yml"),
                               project.path() / "docker/docker-compose.yml");
    std::filesystem::copy_file(source_file("docker/.env.example"), project.path() / "docker/.env");
    expect_scalable(compose_config(project.path(), {"docker/docker-compose.yml"}));
  }
  {
    SCOPED_TRACE("compose.postgres.yml");
    TempDir project;
    CommandResult r = postgres_compose_config(project, "POSTGRES_PASSWORD=pw-5f1c\n");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    expect_scalable(YAML::Load(r.out));
  }
  // And the files say so, with the command that does it.
  for (const char* file : {"docker/docker-compose.yml", "docker/compose.postgres.yml"}) {
    EXPECT_NE(read_text(source_file(file)).find("--scale poller=2 --scale dispatcher=3"),
              std::string::npos)
        << file;
  }
}

TEST(ComposeFileTest, PostgresComposeRefusesToRunWithoutAPassword) {
  TempDir project;
  CommandResult r = postgres_compose_config(project, "");
  EXPECT_NE(r.exit_code, 0) << r.out;
  EXPECT_NE(r.err.find("set POSTGRES_PASSWORD in docker/.env"), std::string::npos) << r.err;
}

// The ```yaml block between the README's opencti-stack-snippet markers.
std::string readme_snippet() {
  std::string readme = read_text(source_file("README.md"));
  const std::string begin = "<!-- opencti-stack-snippet:begin -->";
  const std::string end = "<!-- opencti-stack-snippet:end -->";
  auto b = readme.find(begin);
  auto e = readme.find(end);
  if (b == std::string::npos || e == std::string::npos) {
    throw std::runtime_error("README.md lacks the opencti-stack-snippet markers");
  }
  std::string block = readme.substr(b + begin.size(), e - b - begin.size());
  auto open = block.find("```yaml\n");
  auto close = block.rfind("```");
  if (open == std::string::npos || close <= open) throw std::runtime_error("no ```yaml block");
  return block.substr(open + 8, close - open - 8);
}

TEST(ComposeFileTest, ReadmeSnippetFitsAnOpenCtiStack) {
  TempDir stack;
  // A stand-in for OpenCTI's docker-compose.yml and its .env, as far as the snippet uses them.
  stack.write("docker-compose.yml",
              "services:\n"
              "  opencti:\n"
              "    image: opencti/platform:6.4.0\n"
              "    healthcheck:\n"
              "      test: [\"CMD\", \"wget\", \"-qO-\", "
              "\"http://opencti:8080/health?health_access_key=x\"]\n");
  stack.write(
      ".env",
      "OPENCTI_ADMIN_TOKEN=ChangeMe\nCONNECTOR_WEBHOOK_ID=6f7a6c1e-1d2b-4b59-9a5e-2a3f4c5d6e7f\n");
  stack.write("webhook.env", read_text(source_file("docker/.env.example")));
  stack.write("docker-compose.webhook.yml", readme_snippet());

  YAML::Node config =
      compose_config(stack.path(), {"docker-compose.yml", "docker-compose.webhook.yml"});
  ASSERT_TRUE(config["volumes"]["webhook-data"]);
  int connectors = 0;
  for (const auto& entry : config["services"]) {
    std::string name = entry.first.as<std::string>();
    if (name == "opencti") continue;
    SCOPED_TRACE(name);
    ++connectors;
    const YAML::Node& service = entry.second;
    EXPECT_TRUE(mounts_webhook_data(service));
    EXPECT_TRUE(service["restart"]);
    EXPECT_NE(health_test(service).find("webhookctl health --process"), std::string::npos);
    if (name.find("poller") == std::string::npos) continue;
    // Only the poller talks to OpenCTI.
    EXPECT_EQ(service["depends_on"]["opencti"]["condition"].as<std::string>(), "service_healthy");
    EXPECT_EQ(service["environment"]["OPENCTI_URL"].as<std::string>(), "http://opencti:8080");
    EXPECT_EQ(service["environment"]["OPENCTI_TOKEN"].as<std::string>(), "ChangeMe");
  }
  EXPECT_EQ(connectors, 2);
}

TEST(ComposeFileTest, ConfigRejectsABrokenFile) {
  // The checks above rely on docker-compose failing on an invalid file.
  TempDir dir;
  dir.write("docker-compose.yml",
            "services:\n  poller:\n    restart: sometimes-maybe\n    volumes: 3\n");
  CommandResult r = run_command({"docker-compose", "-f", dir.file("docker-compose.yml"), "config"});
  EXPECT_NE(r.exit_code, 0) << r.out;
}

}  // namespace
}  // namespace webhook::testing
