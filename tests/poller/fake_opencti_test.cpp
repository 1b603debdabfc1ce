// The fake OpenCTI is the yardstick of the poller's tests, so its own behaviour is checked:
// filters in both syntaxes, visibility, pagination and the errors of a real platform.
#include <gtest/gtest.h>

#include "tests/support/fake_opencti.h"
#include "tests/support/graphql_document.h"

namespace webhook::testing {
namespace {

using Json = nlohmann::ordered_json;

constexpr int64_t kNow = 1'750'000'000'000;

class FakeRecordsTest : public ::testing::Test {
 protected:
  FakeRecordsTest() : records_({}, clock_) {
    for (int i = 1; i <= 5; ++i) {
      records_.add("users",
                   FakeRecords::user("u" + std::to_string(i),
                                     "user" + std::to_string(i) + "@example.org", kNow - i * 1000));
    }
  }

  // The user ids a query returns.
  std::vector<std::string> ids(const std::string& query, const Json& variables = Json::object()) {
    Json data = records_.evaluate(parse_graphql(query, variables));
    std::vector<std::string> out;
    for (const auto& edge : data["users"]["edges"]) out.push_back(edge["node"]["id"]);
    std::sort(out.begin(), out.end());
    return out;
  }

  ManualClock clock_{kNow};
  FakeRecords records_;
};

TEST_F(FakeRecordsTest, TimeFiltersCompareEpochMillisecondsAndIsoInBothSyntaxes) {
  const std::string t = std::to_string(kNow - 3000);  // u3's created_at
  const std::string iso = FakeRecords::iso_time(kNow - 3000);
  struct Case {
    const char* op;
    std::vector<std::string> expected;
  };
  const Case cases[] = {{"gt", {"u1", "u2"}},
                        {"gte", {"u1", "u2", "u3"}},
                        {"lt", {"u4", "u5"}},
                        {"lte", {"u3", "u4", "u5"}},
                        {"eq", {"u3"}}};
  for (const auto& c : cases) {
    for (const std::string& value : {t, iso}) {
      SCOPED_TRACE(std::string(c.op) + " " + value);
      EXPECT_EQ(ids("{users(filters:[{key:created_at,operator:\"" + std::string(c.op) +
                    "\",values:[\"" + value + "\"]}],filterMode:and){edges{node{id}}}}"),
                c.expected);
      EXPECT_EQ(ids("{users(filters:{mode:and,filters:[{key:\"created_at\",operator:" +
                    std::string(c.op) + ",values:[\"" + value +
                    "\"]}],filterGroups:[]}){edges{node{id}}}}"),
                c.expected);
    }
  }
  // Two filters and a nested group.
  EXPECT_EQ(ids("{users(filters:{mode:and,filters:[{key:\"created_at\",operator:gt,values:[\"" +
                std::to_string(kNow - 4500) +
                "\"]}],filterGroups:[{mode:or,filters:[{key:"
                "\"user_email\",values:[\"user2@example.org\",\"user4@example.org\"]}],"
                "filterGroups:[]}]}){edges{node{id}}}}"),
            (std::vector<std::string>{"u2", "u4"}));
}

TEST_F(FakeRecordsTest, RecordsAppearAtTheirVisibilityTime) {
  records_.add("users", FakeRecords::user("late", "late@example.org", kNow - 500), kNow + 2000);
  EXPECT_EQ(ids("{users(search:\"late\"){edges{node{id}}}}").size(), 0u);
  clock_.advance(2000);
  EXPECT_EQ(ids("{users(search:\"late\"){edges{node{id}}}}"), std::vector<std::string>{"late"});
}

TEST_F(FakeRecordsTest, PagesFollowAfterWithPageInfo) {
  const std::string query =
      "query Page($after: ID, $first: Int = 2) { users(first: $first, after: $after, "
      "orderMode: asc) { edges { node { id } } pageInfo { endCursor hasNextPage } } }";
  std::vector<std::string> all;
  Json after = nullptr;
  int pages = 0;
  while (true) {
    Json data = records_.evaluate(parse_graphql(query, Json{{"after", after}}));
    ++pages;
    for (const auto& e : data["users"]["edges"]) all.push_back(e["node"]["id"]);
    if (!data["users"]["pageInfo"]["hasNextPage"].get<bool>()) break;
    after = data["users"]["pageInfo"]["endCursor"];
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(all, (std::vector<std::string>{"u1", "u2", "u3", "u4", "u5"}));
}

TEST(FakeOpencti, AnswersAsThePlatformDoesIncludingItsErrors) {
  FakeOpenctiOptions options;
  options.records.legacy_filters = false;  // a 5.12+ platform
  FakeOpencti fake(options);
  std::string bearer = "Bearer " + fake.token();
  auto ask = [&](const std::string& auth, const std::string& query) {
    return fake.answer(auth, Json{{"query", query}}.dump());
  };
  auto [status, body] = ask(bearer, "query { about { version } }");
  EXPECT_EQ(status, 200);
  EXPECT_EQ(Json::parse(body)["data"]["about"]["version"], "6.8.10");

  auto code = [](const std::string& b) {
    return Json::parse(b)["errors"][0]["extensions"]["code"].get<std::string>();
  };
  auto unauthorized = ask("Bearer nope", "{ about { version } }");
  EXPECT_EQ(unauthorized.first, 401);
  EXPECT_EQ(code(unauthorized.second), "AUTH_REQUIRED");
  auto parse = ask(bearer, "{ works( { id } }");
  EXPECT_EQ(parse.first, 400);
  EXPECT_EQ(code(parse.second), "GRAPHQL_PARSE_FAILED");
  auto unknown = ask(bearer, "{ indicators { edges { node { id } } } }");
  EXPECT_EQ(unknown.first, 400);
  EXPECT_EQ(code(unknown.second), "GRAPHQL_VALIDATION_FAILED");
  auto legacy = ask(bearer,
                    "{ works(filters:[{key:status,values:[\"complete\"]}], "
                    "filterMode:and) { edges { node { id } } } }");
  EXPECT_EQ(legacy.first, 400);
  EXPECT_EQ(code(legacy.second), "GRAPHQL_VALIDATION_FAILED");
  auto no_such = ask(bearer,
                     "{ works(filters:{mode:and,filters:[{key:\"status\",operator:regexp,"
                     "values:[\"x\"]}],filterGroups:[]}) { edges { node { id } } } }");
  EXPECT_EQ(no_such.first, 400);
  EXPECT_EQ(code(no_such.second), "GRAPHQL_VALIDATION_FAILED");
  auto unsupported = ask(bearer,
                         "{ works(filters:{mode:and,filters:[{key:\"status\",operator:"
                         "script,values:[\"x\"]}],filterGroups:[]}) { edges { node { id } } } }");
  EXPECT_EQ(unsupported.first, 200);
  EXPECT_EQ(code(unsupported.second), "UNSUPPORTED_ERROR");
}

}  // namespace
}  // namespace webhook::testing
