// Shared set-up of the poller's tests: a fake OpenCTI and the poller's real parts (config
// loaded from an environment map, templates compiled, libcurl client, SQLite store in a
// temporary directory) on one ManualClock. One per test; not thread-safe.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/config.h"
#include "common/store/job_store.h"
#include "common/store/open_store.h"
#include "poller/compiled_feed.h"
#include "poller/feed_poller.h"
#include "poller/graphql_client.h"
#include "tests/support/fake_opencti.h"
#include "tests/support/temp_dir.h"

namespace webhook::poller::testing {

using Json = nlohmann::ordered_json;
using webhook::testing::FakeFailure;
using webhook::testing::FakeOpencti;
using webhook::testing::FakeRecords;
using Overrides = std::map<std::string, std::string>;  // settings that differ from the base

// The README's first example in the 5.12+ FilterGroup syntax, with ids selected so that
// distinct works are distinct items.
inline const char* kWorksQuery =
    "{{works(filters:{{mode:and,filters:[{{key:\"completed_time\",operator:gt,values:["
    "\"LAST_POLL_TIME\"]}}],filterGroups:[]}}){{edges{{node{{id connector{{name}}"
    "messages{{message}}}}}}}}}}";
inline const char* kWorksLocation = "['data']['works']['edges']";
inline const char* kWorksUrl =
    "http://receiver.test/hook?id={item['node']['id']}&connector="
    "{item['node']['connector']['name']}";

// The environment of a real webhook-poller process polling `fake` into a database in `dir`,
// with text logs, plus `overrides` (settings added or replaced).
inline std::map<std::string, std::string> poller_process_env(const FakeOpencti& fake,
                                                             const webhook::testing::TempDir& dir,
                                                             const Overrides& overrides = {}) {
  std::map<std::string, std::string> env = {
      {"OPENCTI_URL", fake.url()},
      {"OPENCTI_TOKEN", fake.token()},
      {"OPENCTI_JSON_LOGGING", "false"},
      {"WEBHOOK_GRAPHQL_QUERY", kWorksQuery},
      {"WEBHOOK_GRAPHQL_RETURNED_DATA_LOCATION", kWorksLocation},
      {"WEBHOOK_URL", kWorksUrl},
      {"WEBHOOK_DATABASE_PATH", dir.file("webhook.db")}};
  for (const auto& [name, value] : overrides) env[name] = value;
  return env;
}

// The SQLite store at `path`, created and migrated if missing.
inline std::unique_ptr<store::JobStore> open_store(const std::string& path) {
  store::StoreOptions options;
  options.path = path;
  return store::open_store(options);
}

class PollerTestEnv {
 public:
  explicit PollerTestEnv(Overrides overrides = {},
                         webhook::testing::FakeOpenctiOptions fake_options = {})
      : fake_(std::move(fake_options), &clock_) {
    env_ = {{"OPENCTI_URL", fake_.url()},
            {"OPENCTI_TOKEN", fake_.token()},
            {"WEBHOOK_GRAPHQL_QUERY", kWorksQuery},
            {"WEBHOOK_GRAPHQL_RETURNED_DATA_LOCATION", kWorksLocation},
            {"WEBHOOK_URL", kWorksUrl},
            {"WEBHOOK_GRAPHQL_POLLING_INTERVAL", "60"},
            {"WEBHOOK_GRAPHQL_TIMEOUT", "0.3"},
            {"WEBHOOK_DATABASE_PATH", dir_.file("webhook.db")}};
    for (auto& [k, v] : overrides) env_[k] = v;
  }

  // Loads the configuration and builds the pollers; call after adjusting env().
  void start(const std::optional<std::string>& config_yml = std::nullopt) {
    std::optional<std::string> file;
    if (config_yml) file = dir_.write("config.yml", *config_yml);
    config_ = std::make_unique<Config>(Config::load(kPoller, env_, file, file.has_value()));
    feeds_ = compile_feeds(config_->feeds());
    client_ = std::make_unique<GraphqlClient>(GraphqlOptions::from_config(*config_));
    store_ = open_store(env_.at("WEBHOOK_DATABASE_PATH"));
    for (const auto& feed : feeds_) {
      pollers_.push_back(std::make_unique<FeedPoller>(feed, *client_, store_.get(), clock_));
    }
  }

  // A completed work, finished `age_ms` before now.
  std::string add_work(int64_t age_ms, const std::string& connector = "Import",
                       std::optional<int64_t> visible_at = std::nullopt) {
    std::string id = "work-" + std::to_string(++works_);
    int64_t done = clock_.now_ms() - age_ms;
    fake_.records().add("works", FakeRecords::work(id, connector, {"done"}, done - 1000, done),
                        visible_at);
    return id;
  }

  std::vector<store::JobRow> jobs(const std::string& feed = "default") {
    store::JobFilter filter;
    filter.feed = feed;
    filter.limit = 100000;
    return store_->list_jobs(filter);
  }

  // The `id=` of every job's URL, sorted, to compare with the records' ids.
  std::vector<std::string> job_ids_in_urls(const std::string& feed = "default") {
    std::vector<std::string> ids;
    for (const auto& job : jobs(feed)) {
      auto from = job.url.find("id=") + 3;
      ids.push_back(job.url.substr(from, job.url.find('&', from) - from));
    }
    std::sort(ids.begin(), ids.end());
    return ids;
  }

  ManualClock& clock() { return clock_; }
  FakeOpencti& fake() { return fake_; }
  std::map<std::string, std::string, std::less<>>& env() { return env_; }
  store::JobStore& store() { return *store_; }
  FeedPoller& poller(std::size_t i = 0) { return *pollers_.at(i); }
  std::vector<std::unique_ptr<FeedPoller>>& pollers() { return pollers_; }
  const Config& config() const { return *config_; }
  webhook::testing::TempDir& dir() { return dir_; }

 private:
  ManualClock clock_{1'750'000'000'000};
  webhook::testing::TempDir dir_;
  FakeOpencti fake_;
  Environment env_;
  std::unique_ptr<Config> config_;
  std::vector<CompiledFeed> feeds_;
  std::unique_ptr<GraphqlClient> client_;
  std::unique_ptr<store::JobStore> store_;
  std::vector<std::unique_ptr<FeedPoller>> pollers_;
  int works_ = 0;
};

}  // namespace webhook::poller::testing
