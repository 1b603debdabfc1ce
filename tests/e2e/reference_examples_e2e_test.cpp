// Each example configuration of the Python connector's README, in the 5.x filter syntax and
// in the FilterGroup syntax, run by the real processes against a platform of that generation:
// every record gives exactly one webhook, with the path and decoded query parameters the
// Python connector rendered (str() of the selected values; a list of dicts as Python's repr).
#include "tests/e2e/e2e_system.h"

namespace webhook::e2e {
namespace {

struct Example {
  std::string name;
  std::string kind;  // the collection the records go to
  std::string legacy_query;
  std::string filter_group_query;
  std::string location;
  std::string url;  // with http://localhost, as in the README
  // The decoded parameters the Python connector renders for record `number`.
  std::function<std::vector<std::pair<std::string, std::string>>(int64_t)> expected;
};

std::vector<Example> examples() {
  auto event_id = [](int64_t n) {
    return std::vector<std::pair<std::string, std::string>>{
        {"event_id", "event-work-" + std::to_string(n)}};
  };
  return {
      {"WorkConnectorAndMessages", "works",
       "{{works(filters:[{{key:completed_time,operator:\"gt\",values:[\"LAST_POLL_TIME\"]}}]){{"
       "edges{{node{{connector{{name}}messages{{message}}}}}}}}}}",
       "{{works(filters:{{mode:and,filters:[{{key:\"completed_time\",operator:gt,values:["
       "\"LAST_POLL_TIME\"]}}],filterGroups:[]}}){{edges{{node{{connector{{name}}messages{{"
       "message}}}}}}}}}}",
       "['data']['works']['edges']",
       "http://localhost?connector_name={item['node']['connector']['name']}&messages="
       "{item['node']['messages']}",
       [](int64_t n) {
         std::string s = std::to_string(n);
         return std::vector<std::pair<std::string, std::string>>{
             {"connector_name", "Connector " + s},
             {"messages", "[{'message': 'work " + s + " done'}]"}};
       }},
      {"EventIdOfLongCompletedWork", "works",
       "{{works(filters:[{{key:completed_time,operator:\"gt\",values:[\"LAST_POLL_TIME\"]}},{{key:"
       "received_time,operator:\"lt\",values:[\"{LAST_POLL_TIME-60000*3}\"]}}],filterMode:and){{"
       "edges{{node{{event_source_id}}}}}}}}",
       "{{works(filters:{{mode:and,filters:[{{key:\"completed_time\",operator:gt,values:["
       "\"LAST_POLL_TIME\"]}},{{key:\"received_time\",operator:lt,values:[\"{LAST_POLL_TIME-60000*"
       "3}\"]}}],filterGroups:[]}}){{edges{{node{{event_source_id}}}}}}}}",
       "['data']['works']['edges']", "http://localhost?event_id={item['node']['event_source_id']}",
       event_id},
      {"EventIdOfLongProcessedWork", "works",
       "{{works(filters:[{{key:processed_time,operator:\"gt\",values:[\"LAST_POLL_TIME\"]}},{{key:"
       "received_time,operator:\"lt\",values:[\"{LAST_POLL_TIME-60000*3}\"]}}],filterMode:and){{"
       "edges{{node{{event_source_id}}}}}}}}",
       "{{works(filters:{{mode:and,filters:[{{key:\"processed_time\",operator:gt,values:["
       "\"LAST_POLL_TIME\"]}},{{key:\"received_time\",operator:lt,values:[\"{LAST_POLL_TIME-60000*"
       "3}\"]}}],filterGroups:[]}}){{edges{{node{{event_source_id}}}}}}}}",
       "['data']['works']['edges']", "http://localhost?event_id={item['node']['event_source_id']}",
       event_id},
      {"NewUserEmail", "users",
       "{{users(filters:[{{key:created_at,operator:\"gt\",values:[\"LAST_POLL_TIME\"]}}]){{edges{{"
       "node{{user_email}}}}}}}}",
       "{{users(filters:{{mode:and,filters:[{{key:\"created_at\",operator:gt,values:["
       "\"LAST_POLL_TIME\"]}}],filterGroups:[]}}){{edges{{node{{user_email}}}}}}}}",
       "['data']['users']['edges']", "http://localhost?email={item['node']['user_email']}",
       [](int64_t n) {
         return std::vector<std::pair<std::string, std::string>>{
             {"email", "user" + std::to_string(n) + "@example.org"}};
       }},
      {"ThreatActorConfidence", "threatActors",
       "{{threatActors(filters:[{{key:updated_at,operator:\"gt\",values:[\"LAST_POLL_TIME\"]}}],"
       "search:\"APT29\"){{edges{{node{{confidence}}}}}}}}",
       "{{threatActors(filters:{{mode:and,filters:[{{key:\"updated_at\",operator:gt,values:["
       "\"LAST_POLL_TIME\"]}}],filterGroups:[]}},search:\"APT29\"){{edges{{node{{confidence}}}}}}}"
       "}",
       "['data']['threatActors']['edges']",
       "http://localhost?confidence={item['node']['confidence']}",
       [](int64_t n) {
         return std::vector<std::pair<std::string, std::string>>{
             {"confidence", std::to_string(n % 101)}};
       }},
  };
}

class ReferenceExample : public ::testing::TestWithParam<std::tuple<int, bool>> {};

TEST_P(ReferenceExample, EveryRecordGivesOneWebhookAsThePythonConnectorRenderedIt) {
  const Example example = examples()[static_cast<std::size_t>(std::get<0>(GetParam()))];
  const bool legacy = std::get<1>(GetParam());
  testing::FakeOpenctiOptions platform;  // a 5.x platform, or a 5.12+ one
  platform.records.legacy_filters = legacy;
  platform.records.filter_groups = !legacy;
  testing::RecordScheduleOptions schedule;
  schedule.kinds = {example.kind};
  E2eSystem system(platform, schedule);
  auto& env = system.env();
  env["WEBHOOK_GRAPHQL_QUERY"] = legacy ? example.legacy_query : example.filter_group_query;
  env.erase("WEBHOOK_GRAPHQL_PAGE_INFO_LOCATION");
  env["WEBHOOK_GRAPHQL_RETURNED_DATA_LOCATION"] = example.location;
  std::string url = example.url;
  url.replace(0, std::string("http://localhost").size(), system.sink().url(""));
  env["WEBHOOK_URL"] = url;

  system.start_poller();
  system.start_dispatcher();
  ASSERT_TRUE(eventually([&] { return system.cursor().has_value(); })) << system.logs();
  constexpr int kRecords = 6;
  for (int i = 0; i < kRecords; ++i) system.schedule().make_one();
  ASSERT_TRUE(system.sink().wait_for_count(kRecords, 30s)) << system.logs();
  // A few more polls, to see that nothing comes twice.
  int64_t polls = system.scalar("SELECT count(*) FROM polls WHERE status = 'ok'");
  ASSERT_TRUE(eventually([&] {
    return system.scalar("SELECT count(*) FROM polls WHERE status = 'ok'") >= polls + 5;
  })) << system.logs();
  ASSERT_TRUE(eventually([&] { return system.jobs_in("delivered") == kRecords; })) << system.logs();

  auto requests = system.sink().requests();
  ASSERT_EQ(requests.size(), static_cast<std::size_t>(kRecords)) << system.logs();
  std::multiset<std::vector<std::pair<std::string, std::string>>> got, want;
  for (const auto& r : requests) {
    EXPECT_EQ(r.method, "GET");
    EXPECT_EQ(r.path, "/");
    EXPECT_EQ(r.status, 200);
    got.insert(query_parameters(r.target));
  }
  for (int n = 1; n <= kRecords; ++n) want.insert(example.expected(n));
  EXPECT_EQ(got, want);
  EXPECT_EQ(system.stop_poller(), 0);
  EXPECT_EQ(system.stop_dispatcher(), 0);
}

INSTANTIATE_TEST_SUITE_P(
    ReadmeExamples, ReferenceExample, ::testing::Combine(::testing::Range(0, 5), ::testing::Bool()),
    [](const ::testing::TestParamInfo<std::tuple<int, bool>>& info) {
      return examples()[static_cast<std::size_t>(std::get<0>(info.param))].name +
             (std::get<1>(info.param) ? "Legacy" : "FilterGroup");
    });

}  // namespace
}  // namespace webhook::e2e
