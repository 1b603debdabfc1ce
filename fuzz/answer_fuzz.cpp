// Fuzzes what OpenCTI's answer goes through in the poller: the input is an answer body,
// read by read_json as the GraphQL client reads it, then one dry-run poll (data location,
// pageInfo, the item hash, the URL, header and body templates, the URL encoder, a dead
// job's copy of the item) and write_json. A read failure and a dead job are normal
// outcomes; any crash, hang, sanitizer report or exception is a bug. Also checks that
// whatever nlohmann's parser accepts, read_json accepts too (Python accepted it).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/json_reader.h"
#include "common/json_writer.h"
#include "poller/compiled_feed.h"
#include "poller/feed_poller.h"
#include "poller/job_id.h"

namespace {

using Json = nlohmann::ordered_json;
using namespace webhook;
using namespace webhook::poller;

class MemoryEndpoint final : public GraphqlEndpoint {
 public:
  GraphqlResponse execute(std::string_view, const Json&, const CancelFn&) override {
    GraphqlResponse r;
    r.http_status = 200;
    JsonReadResult read = read_json(answer);
    if (!read.ok()) {
      r.error = read.error;
    } else if (!read.value.is_object()) {
      r.error = "not an object";
    } else {
      r.document = std::move(read.value);
    }
    return r;
  }
  std::string_view answer;
};

const CompiledFeed& feed() {
  static const std::vector<CompiledFeed> feeds = [] {
    FeedConfig config;
    config.name = "default";
    config.graphql_query = "query {{ works {{ edges {{ node {{ id }} }} }} }}";
    config.data_location = "['data']['works']['edges']";
    config.page_info_location = "['data']['works']['pageInfo']";
    config.max_pages = 3;
    config.url =
        "http://receiver.test/hook?id={item['node']['id']}&x={item['node'].get('x')}"
        "&n={item['node'].get('name', '').upper()}";
    config.method = "POST";
    config.headers = Json{{"X-Id", "{item['node']['id']}"}, {"X-Repr", "{item!r:.200}"}};
    config.body = "{json.dumps(item)}";
    config.ignore_duplicates = true;
    return compile_feeds({config});
  }();
  return feeds.front();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  JsonReadResult read = read_json(input);
  if (read.ok()) {
    std::string text = write_json(read.value);
    item_hash(read.value);
    // What the writer writes, the reader reads back (the writer never emits invalid text).
    if (!read_json(text).ok()) __builtin_trap();
  } else if (read.error.empty()) {
    __builtin_trap();
  }
  Json theirs = Json::parse(input, nullptr, /*allow_exceptions=*/false);
  // nlohmann skips a UTF-8 BOM and stops at a NUL byte; json.loads refused both.
  bool lenient = input.substr(0, 3) == "\xEF\xBB\xBF" || input.find('\0') != input.npos;
  if (!theirs.is_discarded() && !read.ok() && !lenient &&
      read.failure == JsonReadResult::Failure::kSyntax) {
    __builtin_trap();  // nlohmann accepted what read_json calls a syntax error
  }

  static const ManualClock kClock;
  MemoryEndpoint endpoint;
  endpoint.answer = input;
  FeedPoller poller(feed(), endpoint, nullptr, kClock);
  PollResult r = poller.poll({}, /*commit=*/false);
  for (const auto& job : r.jobs) {
    if (job.dead && job.last_error.empty()) __builtin_trap();
    write_json(job.headers);
  }
  return 0;
}
