// Each example configuration of the Python connector's README, in the 5.x filter syntax and
// in the FilterGroup syntax, run by the real processes against a platform of that generation:
// every record gives exactly one webhook, with the path and decoded query parameters the
// Python connector rendered (str() of the selected values; a list of dicts as Python's repr).
#include "tests/e2e/e2e_system.h"
#include "tests/support/reference_configurations.h"

namespace webhook::e2e {
namespace {

using Parameters = std::vector<std::pair<std::string, std::string>>;

// The decoded parameters the Python connector renders for record `n` of each configuration,
// in kReferenceConfigurations' order.
Parameters event_id(int64_t n) { return {{"event_id", "event-work-" + std::to_string(n)}}; }
const std::function<Parameters(int64_t)> kExpectedParameters[] = {
    [](int64_t n) {
      std::string s = std::to_string(n);
      return Parameters{{"connector_name", "Connector " + s},
                        {"messages", "[{'message': 'work " + s + " done'}]"}};
    },
    event_id,
    event_id,
    [](int64_t n) {
      return Parameters{{"email", "user" + std::to_string(n) + "@example.org"}};
    },
    [](int64_t n) {
      return Parameters{{"confidence", std::to_string(n % 101)}};
    },
};
static_assert(std::size(kExpectedParameters) == std::size(testing::kReferenceConfigurations));

class ReferenceExample : public ::testing::TestWithParam<std::tuple<int, bool>> {};

TEST_P(ReferenceExample, EveryRecordGivesOneWebhookAsThePythonConnectorRenderedIt) {
  const auto index = static_cast<std::size_t>(std::get<0>(GetParam()));
  const testing::ReferenceConfiguration& example = testing::kReferenceConfigurations[index];
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
  std::multiset<Parameters> got, want;
  for (const auto& r : requests) {
    EXPECT_EQ(r.method, "GET");
    EXPECT_EQ(r.path, "/");
    EXPECT_EQ(r.status, 200);
    got.insert(query_parameters(r.target));
  }
  for (int n = 1; n <= kRecords; ++n) want.insert(kExpectedParameters[index](n));
  EXPECT_EQ(got, want);
  EXPECT_EQ(system.stop_poller(), 0);
  EXPECT_EQ(system.stop_dispatcher(), 0);
}

INSTANTIATE_TEST_SUITE_P(
    ReadmeExamples, ReferenceExample,
    ::testing::Combine(
        ::testing::Range(0, static_cast<int>(std::size(testing::kReferenceConfigurations))),
        ::testing::Bool()),
    [](const ::testing::TestParamInfo<std::tuple<int, bool>>& info) {
      const auto index = static_cast<std::size_t>(std::get<0>(info.param));
      return std::string(testing::kReferenceConfigurations[index].name) +
             (std::get<1>(info.param) ? "Legacy" : "FilterGroup");
    });

}  // namespace
}  // namespace webhook::e2e
