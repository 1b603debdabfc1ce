// __metadata__/connector_manifest.json, the connector's catalog entry: the fields OpenCTI's
// catalog entries have, in their order and with their types, and what the platform demands
// of a manager-supported entry (an image, a container type, a config schema), each value
// matching the project it describes (the image of docker/, the version CMake builds).
#include <regex>

#include <nlohmann/json.hpp>

#include "common/setting_table.h"
#include "tests/deploy/deploy_support.h"

namespace webhook::testing {
namespace {

using nlohmann::ordered_json;

ordered_json manifest() {
  return ordered_json::parse(read_text(source_file("__metadata__/connector_manifest.json")));
}

TEST(ConnectorManifestTest, HasTheCatalogsFieldsInTheirOrder) {
  const std::vector<std::string> kFields{"title",
                                         "slug",
                                         "description",
                                         "short_description",
                                         "logo",
                                         "use_cases",
                                         "solution_categories",
                                         "license_type",
                                         "contact",
                                         "verified",
                                         "last_verified_date",
                                         "playbook_supported",
                                         "max_confidence_level",
                                         "support_version",
                                         "subscription_link",
                                         "source_code",
                                         "manager_supported",
                                         "container_version",
                                         "container_image",
                                         "container_type"};
  std::vector<std::string> keys;
  ordered_json m = manifest();
  for (const auto& [key, value] : m.items()) keys.push_back(key);
  EXPECT_EQ(keys, kFields);
}

TEST(ConnectorManifestTest, FieldsHaveTheCatalogsTypes) {
  ordered_json m = manifest();
  for (const char* key : {"title", "description", "short_description", "license_type"}) {
    ASSERT_TRUE(m[key].is_string()) << key;
    EXPECT_FALSE(m[key].get<std::string>().empty()) << key;
  }
  EXPECT_TRUE(std::regex_match(m["slug"].get<std::string>(), std::regex("[a-z0-9]+(-[a-z0-9]+)*")));
  for (const char* key : {"use_cases", "solution_categories"}) {
    ASSERT_TRUE(m[key].is_array()) << key;
    EXPECT_FALSE(m[key].empty()) << key;
    for (const auto& v : m[key]) EXPECT_TRUE(v.is_string()) << key;
  }
  for (const char* key : {"verified", "playbook_supported", "manager_supported"}) {
    EXPECT_TRUE(m[key].is_boolean()) << key;
  }
  for (const char* key : {"contact", "last_verified_date", "subscription_link"}) {
    EXPECT_TRUE(m[key].is_null() || m[key].is_string()) << key;
  }
  ASSERT_TRUE(m["max_confidence_level"].is_number_integer());
  EXPECT_GE(m["max_confidence_level"].get<int>(), 0);
  EXPECT_LE(m["max_confidence_level"].get<int>(), 100);
  EXPECT_TRUE(std::regex_match(m["source_code"].get<std::string>(), std::regex("https://\\S+")));
  // The short description is a one-line summary, as the catalog's are.
  EXPECT_LT(m["short_description"].get<std::string>().size(), 200u);
}

TEST(ConnectorManifestTest, ManagerCanDeployIt) {
  ordered_json m = manifest();
  EXPECT_EQ(m["manager_supported"], true);
  // The platform refuses a manager-supported entry without these.
  EXPECT_FALSE(m["container_image"].get<std::string>().empty());
  EXPECT_EQ(m["container_type"], "STREAM");
  EXPECT_NE(find_setting("CONNECTOR_TYPE")->choices.find("STREAM"), std::string_view::npos);
  EXPECT_TRUE(
      std::filesystem::is_regular_file(source_file("__metadata__/connector_config_schema.json")));
}

TEST(ConnectorManifestTest, ImageAndVersionAreThoseTheProjectBuilds) {
  ordered_json m = manifest();
  std::string image = m["container_image"];
  // docker/'s compose file and the README's build command name the same image.
  EXPECT_NE(read_text(source_file("docker/docker-compose.yml"))
                .find("${OPENCTI_WEBHOOK_IMAGE:-" + image + ":latest}"),
            std::string::npos);
  EXPECT_NE(read_text(source_file("README.md")).find("-t " + image + ":latest"), std::string::npos);
  // The manager pulls IMAGE:container_version: the version the build stamps on the programs.
  EXPECT_EQ(m["container_version"], WEBHOOK_VERSION);
}

TEST(ConnectorManifestTest, SupportVersionIsTheOldestTheReadmeDocuments) {
  ordered_json m = manifest();
  std::smatch match;
  std::string support = m["support_version"];
  ASSERT_TRUE(std::regex_match(support, match, std::regex(">=(\\d+)\\.(\\d+)\\.0"))) << support;
  std::string readme = read_text(source_file("README.md"));
  EXPECT_NE(readme.find("OpenCTI " + match[1].str() + "." + match[2].str() + " to"),
            std::string::npos)
      << "the README does not document OpenCTI " << match[1] << "." << match[2];
}

TEST(ConnectorManifestTest, LogoIsAnSvgBesideTheManifest) {
  ordered_json m = manifest();
  std::string logo = m["logo"];
  EXPECT_EQ(logo, "__metadata__/logo.svg");
  std::string svg = read_text(source_file(logo));
  // Well-formed XML whose root is an <svg> element.
  CommandResult r = run_command(
      {"/usr/bin/python3", "-c",
       "import sys, xml.etree.ElementTree as E; print(E.parse(sys.argv[1]).getroot().tag)",
       source_file(logo)});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{http://www.w3.org/2000/svg}svg\n");
  EXPECT_NE(svg.find("viewBox="), std::string::npos);
}

TEST(ConnectorManifestTest, CatalogFileHoldsTheManifestSchemaAndLogo) {
  TempDir dir;
  std::string out = (dir.path() / "catalog.json").string();
  CommandResult r =
      run_command({"/usr/bin/python3", source_file("scripts/connector_catalog.py"), out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ordered_json catalog = ordered_json::parse(read_text(out));
  EXPECT_TRUE(catalog["id"].is_string());
  EXPECT_TRUE(catalog["name"].is_string());
  ASSERT_EQ(catalog["contracts"].size(), 1u);
  ordered_json contract = catalog["contracts"][0];
  EXPECT_EQ(
      contract["config_schema"],
      ordered_json::parse(read_text(source_file("__metadata__/connector_config_schema.json"))));
  // The logo inline, as the platform stores it: a base64 data URL of the SVG's bytes.
  std::string logo = contract["logo"];
  const std::string prefix = "data:image/svg+xml;base64,";
  ASSERT_TRUE(logo.starts_with(prefix)) << logo.substr(0, 40);
  r = run_command({"/usr/bin/python3", "-c",
                   "import base64, sys; sys.stdout.buffer.write(base64.b64decode(sys.argv[1]))",
                   logo.substr(prefix.size())});
  EXPECT_EQ(r.out, read_text(source_file("__metadata__/logo.svg")));
  // Everything else is the manifest, field for field.
  ordered_json m = manifest();
  contract.erase("config_schema");
  contract["logo"] = m["logo"];
  EXPECT_EQ(contract, m);
}

}  // namespace
}  // namespace webhook::testing
