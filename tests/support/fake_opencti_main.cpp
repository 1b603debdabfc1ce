// fake-opencti: the tests' fake OpenCTI platform as a program, for `make demo` and for
// end-to-end runs by hand. It serves POST /graphql on 127.0.0.1, makes records on a schedule,
// writes the ground truth and every request it answered as JSON lines, and can fail every
// n-th request on purpose. Ctrl-C or SIGTERM stops it.
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "common/shutdown_signal.h"
#include "tests/support/fake_opencti.h"
#include "tests/support/record_schedule.h"

namespace {

using webhook::testing::FakeFailure;
using Json = nlohmann::ordered_json;

constexpr const char* kUsage = R"(usage: fake-opencti [options]
  --port N             listen on 127.0.0.1:N (default: a free port)
  --port-file PATH     write the port chosen to PATH once listening
  --token TOKEN        the API token to accept (default: $FAKE_OPENCTI_TOKEN, else a fixed one)
  --records KINDS      what to produce, comma-separated: works,users,threatActors (default works)
  --every-ms N         one record every N ms (default 1000; 0: none)
  --count N            stop producing after N records (default: never)
  --lag-ms N           records become visible N ms after their timestamp (default 0)
  --filters SYNTAX     legacy (5.5-5.11 lists), groups (5.12+ FilterGroup) or both (default)
  --fail KIND:N        fail every N-th request: 502, timeout, malformed, errors, empty, huge
  --ground-truth PATH  append every record made as a JSON line
  --request-log PATH   append every GraphQL request answered as a JSON line
)";

std::optional<FakeFailure> failure_of(const std::string& kind) {
  using Kind = FakeFailure::Kind;
  if (kind == "502") return FakeFailure::http_status(502);
  if (kind == "timeout") return FakeFailure::stalled(std::chrono::seconds(120));
  if (kind == "malformed") return FakeFailure::of(Kind::kMalformedJson);
  if (kind == "errors") return FakeFailure::graphql_errors("INTERNAL_SERVER_ERROR", "injected");
  if (kind == "empty") return FakeFailure::of(Kind::kEmptyBody);
  if (kind == "huge") return FakeFailure::huge(10 * 1024 * 1024);
  return std::nullopt;
}

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::stringstream in(text);
  for (std::string part; std::getline(in, part, separator);) {
    if (!part.empty()) parts.push_back(part);
  }
  return parts;
}

int usage_error(const std::string& message) {
  std::cerr << "fake-opencti: " << message << "\n" << kUsage;
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> args;
  for (int i = 1; i < argc; ++i) {
    std::string name = argv[i];
    if (name == "--help" || name == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if (name.rfind("--", 0) != 0 || i + 1 >= argc) return usage_error("bad argument " + name);
    args[name.substr(2)] = argv[++i];
  }
  auto arg = [&](const std::string& name, const std::string& fallback) {
    auto it = args.find(name);
    return it == args.end() ? fallback : it->second;
  };
  try {
    webhook::ShutdownSignal shutdown;
    webhook::testing::FakeOpenctiOptions options;
    const char* env_token = std::getenv("FAKE_OPENCTI_TOKEN");
    options.token = arg("token", env_token != nullptr ? env_token : options.token);
    const std::string filters = arg("filters", "both");
    if (filters != "legacy" && filters != "groups" && filters != "both") {
      return usage_error("--filters: expected legacy, groups or both");
    }
    options.records.legacy_filters = filters != "groups";
    options.records.filter_groups = filters != "legacy";
    std::optional<FakeFailure> failure;
    int fail_every = 0;
    if (args.count("fail") != 0) {
      auto parts = split(args["fail"], ':');
      if (parts.size() != 2 || !(failure = failure_of(parts[0])) ||
          (fail_every = std::stoi(parts[1])) < 1) {
        return usage_error("--fail: expected KIND:N, e.g. 502:5");
      }
    }

    options.port = std::stoi(arg("port", "0"));
    webhook::testing::FakeOpencti fake(options);
    webhook::testing::RecordScheduleOptions schedule_options;
    schedule_options.kinds = split(arg("records", "works"), ',');
    schedule_options.every = std::chrono::milliseconds(std::stoll(arg("every-ms", "1000")));
    schedule_options.lag = std::chrono::milliseconds(std::stoll(arg("lag-ms", "0")));
    schedule_options.limit = std::stoll(arg("count", "0"));
    schedule_options.ground_truth_file = arg("ground-truth", "");
    webhook::testing::RecordSchedule schedule(fake.records(), schedule_options);

    if (args.count("port-file") != 0) {
      std::ofstream port_file(args["port-file"] + ".tmp");
      port_file << fake.port() << "\n";
      port_file.close();
      std::rename((args["port-file"] + ".tmp").c_str(), args["port-file"].c_str());
    }
    std::cerr << "fake-opencti: listening on " << fake.url() << "\n";
    if (schedule_options.every.count() > 0) schedule.start();

    std::ofstream request_log;
    if (args.count("request-log") != 0) request_log.open(args["request-log"], std::ios::app);
    std::size_t logged = 0, failures_queued = 0;
    while (!shutdown.wait_for(std::chrono::milliseconds(20))) {
      // Queue the failure for every n-th request; the fake takes queued failures in order.
      std::size_t seen = fake.request_count();
      if (failure && (failures_queued + 1) * static_cast<std::size_t>(fail_every) <= seen + 1) {
        fake.fail_next(*failure);
        ++failures_queued;
      }
      for (const auto& request : fake.requests_since(logged)) {
        ++logged;
        if (!request_log.is_open()) continue;
        request_log << Json{{"path", request.path},
                            {"query", request.query},
                            {"variables", request.variables},
                            {"status", request.status},
                            {"response_bytes", request.response.size()}}
                           .dump()
                    << '\n'
                    << std::flush;
      }
    }
    schedule.stop();
    fake.stop();
    std::cerr << "fake-opencti: stopped after " << schedule.count() << " records\n";
    return 0;
  } catch (const std::exception& error) {
    std::cerr << "fake-opencti: " << error.what() << "\n";
    return 1;
  }
}
