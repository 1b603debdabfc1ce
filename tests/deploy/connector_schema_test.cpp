// __metadata__/connector_config_schema.json, what OpenCTI's connector manager builds its form
// from and validates a deployment's settings with: generated from the setting table, a valid
// draft 2020-12 schema (checked with Debian's python3-jsonschema), and in agreement with the
// configuration loader on what is valid, example by example and bound by bound.
#include <algorithm>
#include <cmath>
#include <optional>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/config.h"
#include "common/connector_config_schema.h"
#include "common/setting_table.h"
#include "tests/deploy/deploy_support.h"
#include "tests/support/reference_configurations.h"

namespace webhook::testing {
namespace {

using nlohmann::json;

const char* const kSchemaFile = "__metadata__/connector_config_schema.json";

std::string webhookctl() {
  for (const auto& p : built_programs()) {
    if (p.name == "webhookctl") return p.built_path;
  }
  throw std::runtime_error("webhookctl is not built");
}

json committed_schema() { return json::parse(read_text(source_file(kSchemaFile))); }

struct Verdict {
  bool valid = false;
  json errors;
};

// Validates each environment with python3-jsonschema against `schema_path`; fails the test
// if the schema itself is not a valid draft 2020-12 schema. Debian's interpreter, which is
// the one with Debian's python3-jsonschema, whatever else is first on PATH.
std::vector<Verdict> validate(const std::vector<Environment>& envs,
                              const std::string& schema_path = source_file(kSchemaFile)) {
  std::string input;
  for (const auto& env : envs) input += json(env).dump() + "\n";
  CommandResult r = run_command(
      {"/usr/bin/python3", source_file("tests/deploy/validate_config_schema.py"), schema_path}, {},
      input);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto lines = split_lines(r.out);
  std::vector<Verdict> verdicts;
  if (lines.empty() || json::parse(lines[0]) != json{{"schema", "ok"}}) {
    ADD_FAILURE() << "schema check failed: " << r.out << r.err;
    return verdicts;
  }
  for (std::size_t i = 1; i < lines.size(); ++i) {
    json v = json::parse(lines[i]);
    verdicts.push_back({v["valid"].get<bool>(), v["errors"]});
  }
  EXPECT_EQ(verdicts.size(), envs.size()) << r.out << r.err;
  return verdicts;
}

// Whether the programs accept the environment (check-config's verdict), and why not.
std::optional<std::string> loader_problem(const Environment& env) {
  try {
    Config::load(kAllPrograms, env, std::nullopt);
    return std::nullopt;
  } catch (const ConfigError& e) {
    std::string all;
    for (const auto& p : e.problems()) all += p + "\n";
    return all;
  }
}

// The README's first example configuration, as an operator fills in the manager's form.
Environment example_environment(const ReferenceConfiguration& example, bool legacy) {
  return {{"OPENCTI_URL", "http://opencti:8080"},
          {"OPENCTI_TOKEN", "d434ce02-e58e-4cac-8b4c-42bf16748e84"},
          {"WEBHOOK_GRAPHQL_QUERY", legacy ? example.legacy_query : example.filter_group_query},
          {"WEBHOOK_GRAPHQL_RETURNED_DATA_LOCATION", example.location},
          {"WEBHOOK_URL", example.url}};
}

bool names(const json& errors, const std::string& property) {
  for (const auto& e : errors) {
    if (e["property"] == property) return true;
  }
  return false;
}

TEST(ConnectorSchemaTest, CommittedFileMatchesWebhookctlOutput) {
  CommandResult r = run_command({webhookctl(), "settings", "--json-schema"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_text(source_file(kSchemaFile)), r.out)
      << kSchemaFile << " is out of date: run `make connector-schema`";
}

TEST(ConnectorSchemaTest, IsAValidDraft202012SchemaAndABrokenOneIsNot) {
  validate({});  // fails unless the meta-schema check passes

  // The check can fail: the same schema with a minimum that is not a number.
  json broken = committed_schema();
  broken["properties"]["WEBHOOK_CONCURRENCY"]["minimum"] = "one";
  TempDir dir;
  std::string path = (dir.path() / "broken.json").string();
  std::ofstream(path) << broken.dump(2);
  CommandResult r = run_command(
      {"/usr/bin/python3", source_file("tests/deploy/validate_config_schema.py"), path});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.err.find("not a valid draft 2020-12 schema"), std::string::npos) << r.err;
}

TEST(ConnectorSchemaTest, FollowsTheCatalogsConventions) {
  json schema = committed_schema();
  EXPECT_EQ(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
  EXPECT_EQ(schema["type"], "object");
  EXPECT_EQ(schema["additionalProperties"], true);
  // The `feeds:` list has no environment form: the description tells of it, no property does.
  EXPECT_NE(schema["description"].get<std::string>().find("`feeds:`"), std::string::npos);
  // The platform compiles the properties with Ajv in strict mode, which refuses a keyword
  // it does not know: only these, all of them draft-07 and 2020-12 alike.
  static const std::set<std::string> kKeywords{
      "contentMediaType", "default", "description", "enum", "format",
      "maximum",          "minimum", "pattern",     "type", "writeOnly"};
  for (const auto& [name, property] : schema["properties"].items()) {
    EXPECT_NE(find_setting(name), nullptr) << name << " is not in the setting table";
    EXPECT_TRUE(property.contains("description")) << name;
    for (const auto& [keyword, value] : property.items()) {
      EXPECT_TRUE(kKeywords.count(keyword)) << name << ": " << keyword;
    }
  }
  json required = json::array();
  for (const auto& spec : all_settings()) {
    if (spec.required_by != 0) required.push_back(std::string(spec.env));
  }
  EXPECT_EQ(schema["required"], required);
  // What the default feed cannot do without.
  for (const char* name : {"OPENCTI_URL", "OPENCTI_TOKEN", "WEBHOOK_GRAPHQL_QUERY",
                           "WEBHOOK_GRAPHQL_RETURNED_DATA_LOCATION", "WEBHOOK_URL"}) {
    EXPECT_NE(std::find(required.begin(), required.end(), name), required.end()) << name;
  }
}

TEST(ConnectorSchemaTest, EverySettingHasItsTypeDefaultAndBounds) {
  json properties = committed_schema()["properties"];
  EXPECT_EQ(properties.size(), all_settings().size());
  for (const auto& spec : all_settings()) {
    std::string env(spec.env);
    SCOPED_TRACE(env);
    ASSERT_TRUE(properties.contains(env));
    const json& p = properties[env];
    EXPECT_EQ(p["description"], std::string(spec.description));
    switch (spec.type) {
      case SettingType::kBoolean:
        EXPECT_EQ(p["type"], "boolean");
        if (!spec.default_value.empty()) {
          EXPECT_EQ(p["default"], spec.default_value == "true");
        }
        break;
      case SettingType::kInteger:
        EXPECT_EQ(p["type"], "integer");
        EXPECT_EQ(p["minimum"], static_cast<int64_t>(spec.min));
        if (!spec.default_value.empty()) {
          EXPECT_EQ(p["default"], std::stoll(std::string(spec.default_value)));
        }
        break;
      case SettingType::kSeconds:
        EXPECT_EQ(p["type"], "number");
        EXPECT_DOUBLE_EQ(p["minimum"].get<double>(), spec.min);
        EXPECT_DOUBLE_EQ(p["maximum"].get<double>(), spec.max);
        if (!spec.default_value.empty()) {
          EXPECT_DOUBLE_EQ(p["default"].get<double>(), std::stod(std::string(spec.default_value)));
        }
        break;
      case SettingType::kEnum: {
        EXPECT_EQ(p["type"], "string");
        std::string joined;
        for (const auto& choice : p["enum"]) {
          joined += (joined.empty() ? "" : "|") + choice.get<std::string>();
        }
        EXPECT_EQ(joined, spec.choices);
        EXPECT_EQ(p["default"], std::string(spec.default_value));
        break;
      }
      case SettingType::kSecret:
        // As the catalog marks secrets; no default for the form to show.
        EXPECT_EQ(p["type"], "string");
        EXPECT_EQ(p["format"], "password");
        EXPECT_EQ(p["writeOnly"], true);
        EXPECT_FALSE(p.contains("default"));
        break;
      default:
        EXPECT_EQ(p["type"], "string");
        if (env == "WEBHOOK_DATABASE_PATH") {
          EXPECT_EQ(p["default"], std::string(kImageDatabasePath));
        } else if (spec.default_value.empty()) {
          EXPECT_FALSE(p.contains("default"));
        } else {
          EXPECT_EQ(p["default"], std::string(spec.default_value));
        }
    }
    // The platform compiles the schema with only these formats and refuses any other.
    if (p.contains("format")) {
      static const std::set<std::string> kPlatformFormats{"password", "uri",       "duration",
                                                          "email",    "date-time", "date"};
      EXPECT_TRUE(kPlatformFormats.count(p["format"].get<std::string>())) << p["format"];
    }
  }
}

TEST(ConnectorSchemaTest, DatabaseDefaultIsTheImagesVolume) {
  // The manager passes defaults to the container, so this one must be the image's own.
  std::string dockerfile = read_text(source_file("docker/Dockerfile"));
  EXPECT_NE(dockerfile.find("ENV WEBHOOK_DATABASE_PATH=" + std::string(kImageDatabasePath)),
            std::string::npos);
}

TEST(ConnectorSchemaTest, ReadmeExamplesValidateAndABrokenOneDoesNot) {
  std::vector<Environment> envs;
  for (const auto& example : kReferenceConfigurations) {
    for (bool legacy : {false, true}) envs.push_back(example_environment(example, legacy));
  }
  Environment missing_url = envs[0];
  missing_url.erase("WEBHOOK_URL");
  Environment bad_method = envs[0];
  bad_method["WEBHOOK_METHOD"] = "FETCH";
  envs.push_back(missing_url);
  envs.push_back(bad_method);

  auto verdicts = validate(envs);
  ASSERT_EQ(verdicts.size(), envs.size());
  for (std::size_t i = 0; i + 2 < envs.size(); ++i) {
    SCOPED_TRACE(envs[i].at("WEBHOOK_URL"));
    EXPECT_TRUE(verdicts[i].valid) << verdicts[i].errors.dump();
    EXPECT_EQ(loader_problem(envs[i]), std::nullopt);
  }
  const Verdict& no_url = verdicts[envs.size() - 2];
  EXPECT_FALSE(no_url.valid);
  EXPECT_TRUE(names(no_url.errors, "WEBHOOK_URL")) << no_url.errors.dump();
  EXPECT_NE(loader_problem(missing_url), std::nullopt);
  const Verdict& fetch = verdicts.back();
  EXPECT_FALSE(fetch.valid);
  EXPECT_TRUE(names(fetch.errors, "WEBHOOK_METHOD")) << fetch.errors.dump();
  EXPECT_NE(loader_problem(bad_method), std::nullopt);
}

// One setting's value on top of a valid configuration, and whether both should accept it.
struct Case {
  std::string setting;
  std::string value;
  bool valid;
};

std::string text(double v) {
  if (std::trunc(v) == v) return std::to_string(static_cast<int64_t>(v));
  std::ostringstream out;
  out << v;
  return out.str();
}

// Table-driven from the setting table: each bound, each choice, and a value of the wrong
// kind, for every setting whose type the schema can check.
std::vector<Case> cases() {
  constexpr double kUnbounded = SettingSpec{}.max;
  std::vector<Case> out;
  for (const auto& spec : all_settings()) {
    std::string env(spec.env);
    switch (spec.type) {
      case SettingType::kInteger:
        out.push_back({env, text(spec.min), true});
        out.push_back({env, text(spec.min - 1), false});
        out.push_back({env, text(spec.min) + ".5", false});
        if (spec.max < kUnbounded) {
          out.push_back({env, text(spec.max), true});
          out.push_back({env, text(spec.max + 1), false});
        }
        break;
      case SettingType::kSeconds:
        out.push_back({env, text(spec.min), true});
        out.push_back({env, text(spec.min == 0 ? -1 : spec.min / 2), false});
        out.push_back({env, text(spec.max), true});
        out.push_back({env, text(spec.max * 2), false});
        out.push_back({env, "soon", false});
        break;
      case SettingType::kBoolean:
        out.push_back({env, "true", true});
        out.push_back({env, "false", true});
        out.push_back({env, "maybe", false});
        break;
      case SettingType::kEnum: {
        std::string_view rest = spec.choices;
        while (!rest.empty()) {
          auto bar = rest.find('|');
          out.push_back({env, std::string(rest.substr(0, bar)), true});
          rest = bar == std::string_view::npos ? std::string_view{} : rest.substr(bar + 1);
        }
        out.push_back({env, "none-of-these", false});
        break;
      }
      case SettingType::kUuid:
        out.push_back({env, "8215614c-7139-422e-b825-b20fd2a13a23", true});
        out.push_back({env, "8215614c-7139-422e-b825", false});
        break;
      case SettingType::kStatusList:
        out.push_back({env, "400,404, 410", true});
        out.push_back({env, "400,99", false});
        break;
      default:
        break;  // strings, templates, secrets, JSON: the programs check what a schema cannot
    }
  }
  return out;
}

TEST(ConnectorSchemaTest, SchemaAndLoaderAgreeOnEveryBoundAndChoice) {
  Environment base = example_environment(kReferenceConfigurations[0], false);
  std::vector<Case> all = cases();
  std::vector<Environment> envs;
  for (const auto& c : all) {
    Environment env = base;
    env[c.setting] = c.value;
    envs.push_back(env);
  }
  auto verdicts = validate(envs);
  ASSERT_EQ(verdicts.size(), all.size());
  for (std::size_t i = 0; i < all.size(); ++i) {
    const Case& c = all[i];
    SCOPED_TRACE(c.setting + "=" + c.value);
    EXPECT_EQ(verdicts[i].valid, c.valid) << verdicts[i].errors.dump();
    if (!c.valid) {
      EXPECT_TRUE(names(verdicts[i].errors, c.setting)) << verdicts[i].errors.dump();
    }
    auto problem = loader_problem(envs[i]);
    EXPECT_EQ(!problem.has_value(), c.valid) << problem.value_or("accepted by the loader");
    if (problem) {
      EXPECT_NE(problem->find(c.setting), std::string::npos) << *problem;
    }
  }
}

}  // namespace
}  // namespace webhook::testing
