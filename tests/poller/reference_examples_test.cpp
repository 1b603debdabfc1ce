// Each example configuration of the Python connector's README, in the 5.x filter syntax it
// shows and in the FilterGroup syntax of OpenCTI 5.12 and later, must send the query and
// produce the requests the Python connector would have: CPython itself renders the query
// and the URLs (f-string via eval, as the connector did) from the very answer the fake gave,
// and encodes the URLs as its HTTP client sent them.
#include <gtest/gtest.h>

#include "tests/poller/poller_test_env.h"
#include "tests/support/child_process.h"
#include "tests/support/reference_configurations.h"

namespace webhook::poller::testing {
namespace {

using webhook::testing::kReferenceConfigurations;
using webhook::testing::ReferenceConfiguration;

// How many of add_records' records each configuration selects, in kReferenceConfigurations'
// order.
constexpr std::size_t kExpectedItems[] = {3, 1, 1, 2, 1};
static_assert(std::size(kExpectedItems) == std::size(kReferenceConfigurations));

// Records around the window (interval 60 s, no overlap: the Python connector's window is
// (now - 60 s, now]): some inside, some before it, some that the other filters exclude.
void add_records(FakeRecords& records, int64_t now) {
  using std::chrono::minutes;
  int64_t min = 60'000;
  records.add("works",
              FakeRecords::work("w-old", "Import", {"stale"}, now - 20 * min, now - 2 * min));
  records.add("works", FakeRecords::work("w-long", "AlienVault & Co",
                                         {"imported 24 objects", "connector's run done"},
                                         now - 10 * min, now - 20'000));
  records.add("works", FakeRecords::work("w-short", "Ünïcode <conn>", {"50% [done] {ok}"},
                                         now - 30'000, now - 10'000));
  records.add("works", FakeRecords::work("w-quick", "MITRE ATT&CK", {}, now - 5'000, now - 1'000));
  records.add("users", FakeRecords::user("u-old", "old@example.org", now - 5 * min));
  records.add("users", FakeRecords::user("u-new", "jane.doe+test@example.org", now - 30'000));
  records.add("users", FakeRecords::user("u-newer", "Zoë Noël@example.org", now - 2'000));
  records.add("threatActors", FakeRecords::threat_actor("ta-1", "APT29", 85, now - 15'000));
  records.add("threatActors", FakeRecords::threat_actor("ta-2", "APT28", 60, now - 15'000));
  records.add("threatActors", FakeRecords::threat_actor("ta-3", "APT29 (old)", 10, now - 9 * min));
}

const char* kOracle = R"PY(
import json, re, sys
from urllib.parse import quote

def sendable(url):
    parts = re.split(r'(%[0-9A-Fa-f]{2})', url)
    return ''.join(p if i % 2 else quote(p, safe="!#$&'()*+,/:;=?@~") for i, p in enumerate(parts))

out = []
for case in json.load(sys.stdin):
    query = case['query'].replace('LAST_POLL_TIME', str(case['last_poll_time']))
    query = eval('f' + repr(query))
    response = json.loads(case['answer'])
    try:
        data = eval('response' + case['location'])
    except (KeyError, IndexError, TypeError):
        data = None
    items = [] if data is None or data == [] or data == '' else (data if isinstance(data, list) else [data])
    urls = [sendable(eval('f' + repr(case['url']), {'item': item, 'json': json})) for item in items]
    out.append({'query': query, 'urls': urls})
print(json.dumps(out))
)PY";

TEST(ReferenceExamples, EachExampleInBothFilterSyntaxesRendersWhatThePythonConnectorWould) {
  Json oracle_input = Json::array();
  std::vector<std::pair<std::string, std::vector<std::string>>> ours;  // query sent, URLs
  for (std::size_t i = 0; i < std::size(kReferenceConfigurations); ++i) {
    const ReferenceConfiguration& example = kReferenceConfigurations[i];
    for (bool legacy : {true, false}) {
      SCOPED_TRACE(std::string(example.name) + (legacy ? " (5.x)" : " (FilterGroup)"));
      webhook::testing::FakeOpenctiOptions platform;
      platform.records.legacy_filters = legacy;  // a 5.x platform, or a 5.12+ one
      platform.records.filter_groups = !legacy;
      PollerTestEnv env(Overrides{{"WEBHOOK_GRAPHQL_QUERY",
                                   legacy ? example.legacy_query : example.filter_group_query},
                                  {"WEBHOOK_GRAPHQL_RETURNED_DATA_LOCATION", example.location},
                                  {"WEBHOOK_URL", example.url},
                                  {"WEBHOOK_POLL_OVERLAP", "0"}},
                        platform);
      env.start();
      add_records(env.fake().records(), env.clock().now_ms());
      PollResult r = env.poller().poll();
      ASSERT_TRUE(r.ok()) << r.record.error;
      EXPECT_EQ(r.record.items_found, static_cast<int64_t>(kExpectedItems[i]));
      EXPECT_EQ(r.record.render_errors, 0);
      auto requests = env.fake().requests();
      ASSERT_EQ(requests.size(), 1u);
      std::vector<std::string> urls;
      for (const auto& job : r.jobs) urls.push_back(job.url);
      EXPECT_EQ(env.jobs().size(), urls.size());
      ours.emplace_back(requests[0].query, urls);
      oracle_input.push_back({{"query", env.config().feeds()[0].graphql_query},
                              {"last_poll_time", r.record.window_from},
                              {"location", example.location},
                              {"url", example.url},
                              {"answer", requests[0].response}});
    }
  }
  auto result = webhook::testing::run_command({"python3", "-c", kOracle}, {}, oracle_input.dump());
  ASSERT_EQ(result.exit_code, 0) << result.err;
  Json expected = Json::parse(result.out);
  ASSERT_EQ(expected.size(), ours.size());
  for (std::size_t i = 0; i < ours.size(); ++i) {
    SCOPED_TRACE(oracle_input[i]["query"].get<std::string>());
    EXPECT_EQ(ours[i].first, expected[i]["query"].get<std::string>());
    EXPECT_EQ(ours[i].second, expected[i]["urls"].get<std::vector<std::string>>());
  }
}

// The same examples, rejected by a platform of the other generation, fail the poll with the
// platform's validation error instead of silently returning nothing.
TEST(ReferenceExamples, AQueryInTheWrongFilterSyntaxFailsThePollWithThePlatformsError) {
  webhook::testing::FakeOpenctiOptions current;
  current.records.legacy_filters = false;
  PollerTestEnv env(Overrides{{"WEBHOOK_GRAPHQL_QUERY", kReferenceConfigurations[0].legacy_query}},
                    current);
  env.start();
  PollResult r = env.poller().poll();
  EXPECT_EQ(r.status, PollStatus::kFailed);
  EXPECT_NE(r.record.error.find("HTTP 400: GRAPHQL_VALIDATION_FAILED"), std::string::npos)
      << r.record.error;
}

}  // namespace
}  // namespace webhook::poller::testing
