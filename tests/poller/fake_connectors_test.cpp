// The fake OpenCTI's connector mutations refuse what the platform's schema refuses, so that
// the registration tests cannot pass with a document the real platform would reject.
#include <gtest/gtest.h>

#include "poller/graphql_client.h"
#include "tests/support/fake_opencti.h"

namespace webhook::testing {
namespace {

using Json = nlohmann::ordered_json;

constexpr const char* kId = "7c9e6679-7425-40de-944b-e07fc1f90ae7";
// The documents OpenCTI's Python client sends (pycti's register and ping).
constexpr const char* kRegister =
    "mutation RegisterConnector($input: RegisterConnectorInput) {\n"
    "  registerConnector(input: $input) { id connector_state config { listen push }"
    " connector_user { id } }\n}";
constexpr const char* kPing =
    "mutation PingConnector($id: ID!, $state: String) {\n"
    "  pingConnector(id: $id, state: $state) { id connector_state }\n}";

class FakeConnectorsTest : public ::testing::Test {
 protected:
  // {HTTP status, answer}
  std::pair<int, Json> post(const std::string& query, const Json& variables) {
    auto [status, body] = fake_.answer("Bearer " + fake_.token(),
                                       Json{{"query", query}, {"variables", variables}}.dump());
    return {status, Json::parse(body)};
  }

  static Json input() {
    return {{"id", kId},        {"name", "Webhook"},
            {"type", "STREAM"}, {"scope", Json::array()},
            {"auto", false},    {"only_contextual", false}};
  }

  // The error's code and message, for a refused request.
  static std::string error(const Json& answer) {
    const Json& e = answer.at("errors").at(0);
    return e["extensions"]["code"].get<std::string>() + ": " + e["message"].get<std::string>();
  }

  ManualClock clock_{1'750'000'000'000};
  FakeOpencti fake_{{}, &clock_};
};

TEST_F(FakeConnectorsTest, PyctisDocumentsRegisterAndPingAConnector) {
  auto [status, answer] = post(kRegister, {{"input", input()}});
  ASSERT_EQ(status, 200) << answer;
  EXPECT_EQ(answer["data"]["registerConnector"]["id"], kId);
  EXPECT_TRUE(answer["data"]["registerConnector"]["connector_state"].is_null());

  clock_.advance(1000);
  auto [ping_status, ping] = post(kPing, {{"id", kId}, {"state", "{\"feeds\":{}}"}});
  ASSERT_EQ(ping_status, 200) << ping;
  EXPECT_EQ(ping["data"]["pingConnector"]["connector_state"], "{\"feeds\":{}}");
  auto connector = fake_.connectors().find(kId);
  ASSERT_TRUE(connector.has_value());
  EXPECT_EQ(connector->registrations, 1);
  EXPECT_EQ(connector->pings, 1);
  EXPECT_EQ(connector->last_ping_at, clock_.now_ms());
  EXPECT_TRUE(fake_.connectors().active(kId));
  clock_.advance(5 * 60 * 1000);
  EXPECT_FALSE(fake_.connectors().active(kId));
}

TEST_F(FakeConnectorsTest, InputsTheSchemaDoesNotAcceptAreRefusedAndNotRecorded) {
  struct Case {
    const char* what;
    Json input;
    const char* expected;
  };
  Json unknown_field = input();
  unknown_field["state"] = "{}";
  Json bad_type = input();
  bad_type["type"] = "WORKER";
  Json no_name = input();
  no_name.erase("name");
  Json short_name = input();
  short_name["name"] = " ";
  Json scope_as_numbers = input();
  scope_as_numbers["scope"] = Json::array({1, 2});
  Json auto_as_text = input();
  auto_as_text["auto"] = "false";
  const Case cases[] = {
      {"unknown field", unknown_field,
       "BAD_USER_INPUT: Field \"state\" is not defined by type \"RegisterConnectorInput\""},
      {"not a ConnectorType", bad_type, "does not exist in \"ConnectorType\" enum"},
      {"no name", no_name, "Field \"name\" of required type \"String!\" was not provided"},
      {"blank name", short_name, "Must be at least 2 characters"},
      {"scope of numbers", scope_as_numbers, "String cannot represent a non string value"},
      {"auto as text", auto_as_text, "Boolean cannot represent a non boolean value"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    auto [status, answer] = post(kRegister, {{"input", c.input}});
    EXPECT_EQ(status, 400);
    EXPECT_NE(error(answer).find(c.expected), std::string::npos) << error(answer);
  }
  EXPECT_TRUE(fake_.connectors().calls().empty());
}

TEST_F(FakeConnectorsTest, VariablesMustBeDeclaredWithTheArgumentsTypes) {
  ASSERT_EQ(post(kRegister, {{"input", input()}}).first, 200);
  auto [status, answer] =
      post("mutation($id: String, $state: String) { pingConnector(id: $id, state: $state) { id } }",
           {{"id", kId}, {"state", "{}"}});
  EXPECT_EQ(status, 400);
  EXPECT_EQ(error(answer),
            "GRAPHQL_VALIDATION_FAILED: Variable \"$id\" of type \"String\" used in position "
            "expecting type \"ID!\".");

  auto [no_id_status, no_id] = post("mutation { pingConnector(state: \"{}\") { id } }", {});
  EXPECT_EQ(no_id_status, 400);
  EXPECT_NE(error(no_id).find("argument \"id\" of type \"ID!\" is required"), std::string::npos);

  auto [state_status, state_object] = post(kPing, {{"id", kId}, {"state", {{"feeds", 1}}}});
  EXPECT_EQ(state_status, 400);
  EXPECT_NE(error(state_object).find("String cannot represent"), std::string::npos);

  auto [field_status, field] =
      post("mutation($id: ID!) { pingConnector(id: $id) { secret } }", {{"id", kId}});
  EXPECT_EQ(field_status, 400);
  EXPECT_EQ(error(field),
            "GRAPHQL_VALIDATION_FAILED: Cannot query field \"secret\" on type \"Connector\".");
  EXPECT_EQ(fake_.connectors().call_count("pingConnector"), 0u);
}

TEST_F(FakeConnectorsTest, PingingAConnectorThePlatformDoesNotKnowIsAFunctionalError) {
  auto [status, answer] = post(kPing, {{"id", kId}, {"state", "{}"}});
  EXPECT_EQ(status, 200);
  EXPECT_TRUE(answer["data"].is_null());
  EXPECT_EQ(error(answer), "FUNCTIONAL_ERROR: No connector found with the specified ID");
}

TEST_F(FakeConnectorsTest, AFailureAimedAtOneFieldSparesTheOthersAndLeavesTheMutationUndone) {
  FakeFailure refusal = FakeFailure::graphql_errors("FORBIDDEN_ACCESS", "no");
  refusal.field = "registerConnector";
  fake_.fail_next(refusal);
  // Through HTTP: failures are applied by the server, not by answer().
  poller::GraphqlOptions options;
  options.url = fake_.url();
  options.token = fake_.token();
  poller::GraphqlClient client(options);
  EXPECT_TRUE(client.about().ok());
  auto refused = client.execute(kRegister, {{"input", input()}});
  EXPECT_EQ(refused.code, "FORBIDDEN_ACCESS");
  EXPECT_FALSE(fake_.connectors().find(kId).has_value());
  EXPECT_TRUE(client.execute(kRegister, {{"input", input()}}).ok());
  EXPECT_TRUE(fake_.connectors().find(kId).has_value());
  auto requests = fake_.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].field, "about");
  EXPECT_EQ(requests[1].field, "registerConnector");
  EXPECT_EQ(requests[1].variables["input"]["id"], kId);
}

}  // namespace
}  // namespace webhook::testing
