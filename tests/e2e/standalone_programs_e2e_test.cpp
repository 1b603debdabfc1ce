// The fake OpenCTI and the sink as programs (what `make demo` runs), with the real poller and
// dispatcher: the ground truth the fake writes and the request log the sink writes agree
// record for record, through a platform that fails every few requests and a receiver that
// fails the first tries.
#include <nlohmann/json.hpp>

#include "tests/e2e/e2e_system.h"

namespace webhook::e2e {
namespace {

using Json = nlohmann::json;

// The complete lines of a JSON-lines file another process is appending to: a last line
// without its newline is still being written, and is left for the next read.
std::vector<Json> json_lines(const std::string& path) {
  std::vector<Json> out;
  const std::string text = read_text(path);
  std::stringstream in(text.substr(0, text.rfind('\n') + 1));
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(Json::parse(line));
  }
  return out;
}

int port_in(const std::string& file) {
  auto text = read_text(file);
  return text.empty() ? 0 : std::stoi(text);
}

TEST(StandalonePrograms, GroundTruthAndSinkLogAgreeThroughFailuresOnBothSides) {
  testing::TempDir dir;
  constexpr int kRecords = 60;
  ChildProcess fake(
      {WEBHOOK_BINARY_DIR "/tests/fake-opencti", "--port-file", dir.file("opencti.port"), "--token",
       kToken, "--every-ms", "20", "--count", std::to_string(kRecords), "--fail", "502:4",
       "--ground-truth", dir.file("truth.jsonl"), "--request-log", dir.file("requests.jsonl")},
      {}, dir.file("fake.log"));
  ChildProcess sink({WEBHOOK_BINARY_DIR "/tests/webhook-sink", "--port-file", dir.file("sink.port"),
                     "--log", dir.file("sink.jsonl"), "--script", "fail-first:5:500"},
                    {}, dir.file("sink.log"));
  ASSERT_TRUE(eventually([&] {
    return port_in(dir.file("opencti.port")) > 0 && port_in(dir.file("sink.port")) > 0;
  })) << fake.output()
      << sink.output();
  const std::string sink_url = "http://127.0.0.1:" + std::to_string(port_in(dir.file("sink.port")));
  std::map<std::string, std::string> env = {
      {"OPENCTI_URL", "http://127.0.0.1:" + std::to_string(port_in(dir.file("opencti.port")))},
      {"OPENCTI_TOKEN", kToken},
      {"OPENCTI_JSON_LOGGING", "true"},
      {"WEBHOOK_GRAPHQL_QUERY", kPagedWorksQuery},
      {"WEBHOOK_GRAPHQL_PAGE_INFO_LOCATION", "['data']['works']['pageInfo']"},
      {"WEBHOOK_GRAPHQL_RETURNED_DATA_LOCATION", "['data']['works']['edges']"},
      {"WEBHOOK_URL", sink_url + "/works?id={item['node']['id']}"},
      {"WEBHOOK_GRAPHQL_POLLING_INTERVAL", "0.1"},
      {"WEBHOOK_POLL_OVERLAP", "2"},
      {"WEBHOOK_UNSUCCESSFUL_RETRY_INTERVAL", "0.1"},
      {"WEBHOOK_SECRET", kSecret},
      {"WEBHOOK_DATABASE_PATH", dir.file("webhook.db")}};
  ChildProcess poller({WEBHOOK_BINARY_DIR "/poller/webhook-poller"}, env, dir.file("poller.log"));
  ChildProcess dispatcher({WEBHOOK_BINARY_DIR "/dispatcher/webhook-dispatcher"}, env,
                          dir.file("dispatcher.log"));

  auto delivered_ids = [&] {
    std::map<std::string, int> ids;
    for (const auto& line : json_lines(dir.file("sink.jsonl"))) {
      if (line["status"] != 200) continue;
      for (const auto& [name, value] : query_parameters(line["target"].get<std::string>())) {
        if (name == "id") ++ids[value];
      }
    }
    return ids;
  };
  ASSERT_TRUE(eventually(
      [&] {
        return json_lines(dir.file("truth.jsonl")).size() == kRecords &&
               delivered_ids().size() == kRecords;
      },
      60s))
      << read_text(dir.file("poller.log")) << read_text(dir.file("dispatcher.log"));

  auto ids = delivered_ids();
  for (const auto& record : json_lines(dir.file("truth.jsonl"))) {
    EXPECT_EQ(ids[record["id"].get<std::string>()], 1) << record.dump();
  }
  // The sink failed its first five requests, which were tried again.
  auto sink_lines = json_lines(dir.file("sink.jsonl"));
  EXPECT_EQ(std::count_if(sink_lines.begin(), sink_lines.end(),
                          [](const Json& l) { return l["status"] == 500; }),
            5);
  for (const auto& line : sink_lines) {
    EXPECT_FALSE(line["headers"].value("Idempotency-Key", "").empty()) << line.dump();
    EXPECT_FALSE(line["headers"].value("webhook-signature", "").empty()) << line.dump();
  }
  // The platform failed some polls with 502: logged by the fake, recorded by the poller.
  auto requests = json_lines(dir.file("requests.jsonl"));
  EXPECT_GE(std::count_if(requests.begin(), requests.end(),
                          [](const Json& r) { return r["status"] == 502; }),
            2);
  SQLite::Database db(dir.file("webhook.db"), SQLite::OPEN_READONLY);
  SQLite::Statement failed(db, "SELECT count(*) FROM polls WHERE error LIKE 'HTTP 502 from%'");
  ASSERT_TRUE(failed.executeStep());
  EXPECT_GE(failed.getColumn(0).getInt64(), 2);

  poller.signal(SIGTERM);
  dispatcher.signal(SIGTERM);
  EXPECT_EQ(poller.wait_for(20s), 0);
  EXPECT_EQ(dispatcher.wait_for(20s), 0);
  fake.signal(SIGTERM);
  sink.signal(SIGTERM);
  EXPECT_EQ(fake.wait_for(20s), 0);
  EXPECT_EQ(sink.wait_for(20s), 0);
  std::string logs = read_text(dir.file("poller.log")) + read_text(dir.file("dispatcher.log"));
  EXPECT_EQ(logs.find(kToken), std::string::npos);
  EXPECT_EQ(logs.find(kSecret), std::string::npos);
}

}  // namespace
}  // namespace webhook::e2e
