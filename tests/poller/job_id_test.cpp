#include "poller/job_id.h"

#include "common/store/job_store.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>

namespace webhook::poller {
namespace {

// The poller's jobs get their ids from the store's one generator: UUIDv7, time-ordered.
TEST(JobId, IsAUniqueTimeOrderedVersion7Uuid) {
  const std::regex uuid7("^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  std::set<std::string> ids;
  for (int i = 0; i < 10000; ++i) {
    std::string id = store::make_job_id();
    ASSERT_TRUE(std::regex_match(id, uuid7)) << id;
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 10000u);
  // Made later, sorts later (whole milliseconds apart).
  EXPECT_LT(store::make_job_id(1'700'000'000'000), store::make_job_id(1'700'000'000'001));
}

TEST(ItemHash, IsTheSameForTheSameRecordAndDiffersOtherwise) {
  using Json = nlohmann::ordered_json;
  Json a = Json::parse(R"({"node":{"id":"w1","messages":[{"message":"done"}]}})");
  Json same = Json::parse(R"({ "node": { "id": "w1", "messages": [ { "message": "done" } ] } })");
  Json other = Json::parse(R"({"node":{"id":"w2","messages":[{"message":"done"}]}})");
  EXPECT_EQ(item_hash(a), item_hash(same));
  EXPECT_NE(item_hash(a), item_hash(other));
  EXPECT_EQ(item_hash(a).size(), 32u);
}

// The encoding must not confuse values that JSON text would also keep apart.
TEST(ItemHash, TellsApartTypesNestingAndKeyBoundaries) {
  using Json = nlohmann::ordered_json;
  const char* texts[] = {R"({"a":"1"})",
                         R"({"a":1})",
                         R"({"a":1.0})",
                         R"({"a":true})",
                         R"({"a":null})",
                         R"({"a":"true"})",
                         R"({"a":[1]})",
                         R"({"a":{"b":1}})",
                         R"({"ab":"c"})",
                         R"({"a":"bc"})",
                         R"({"a":["b","c"]})",
                         R"({"a":["bc"]})",
                         R"({"a":[["b"],"c"]})",
                         R"({"a":["b",["c"]]})",
                         R"({"a":1,"b":2})",
                         R"({"b":2,"a":1})",
                         R"({"a":-1})",
                         R"({"a":18446744073709551615})",
                         R"({"a":""})",
                         R"({})",
                         R"([])"};
  std::set<std::string> hashes;
  for (const char* text : texts) hashes.insert(item_hash(Json::parse(text)));
  EXPECT_EQ(hashes.size(), std::size(texts));
}

}  // namespace
}  // namespace webhook::poller
