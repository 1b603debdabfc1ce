// webhook-sink: the tests' scriptable receiver as a program, for `make demo` and for runs by
// hand. It logs every request it gets (method, target, headers, body, time, what it answered)
// as JSON lines, optionally prints one line per request, and answers from a script.
// Ctrl-C or SIGTERM stops it.
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/shutdown_signal.h"
#include "tests/support/test_receiver.h"

namespace {

using webhook::testing::Reply;
using webhook::testing::Script;
using Json = nlohmann::ordered_json;

constexpr const char* kUsage = R"(usage: webhook-sink [options]
  --port N           listen on 127.0.0.1:N (default: a free port)
  --port-file PATH   write the port chosen to PATH once listening
  --log PATH         append every request as a JSON line
  --print            print one line per request on stdout
  --script SCRIPT    how to answer every path:
                       ok (default) | status:CODE | fail-first:K[:CODE] (per URL path) |
                       stall:MS | drop | retry-after:SECONDS[:K]
)";

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::stringstream in(text);
  for (std::string part; std::getline(in, part, separator);) parts.push_back(part);
  return parts;
}

// Throws std::invalid_argument on a script it does not know.
Script parse_script(const std::string& text) {
  auto parts = split(text, ':');
  const std::string kind = parts.empty() ? "" : parts[0];
  auto number = [&](std::size_t i, int fallback) {
    return parts.size() > i ? std::stoi(parts[i]) : fallback;
  };
  if (kind == "ok") return Script::always(Reply{});
  if (kind == "status") return Script::always(Reply::status_only(number(1, 500)));
  if (kind == "fail-first") {
    return Script::fail_first(number(1, 1), Reply::status_only(number(2, 500)));
  }
  if (kind == "stall") {
    return Script::always(Reply::stalled(std::chrono::milliseconds(number(1, 60000))));
  }
  if (kind == "drop") {
    Reply reply;
    reply.drop_connection = true;
    return Script::always(reply);
  }
  if (kind == "retry-after") {
    return Script::fail_first(number(2, 1), Reply::retry_after(429, std::to_string(number(1, 1))));
  }
  throw std::invalid_argument("--script: unknown script '" + text + "'");
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> args;
  bool print = false;
  for (int i = 1; i < argc; ++i) {
    std::string name = argv[i];
    if (name == "--help" || name == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if (name == "--print") {
      print = true;
      continue;
    }
    if (name.rfind("--", 0) != 0 || i + 1 >= argc) {
      std::cerr << "webhook-sink: bad argument " << name << "\n" << kUsage;
      return 2;
    }
    args[name.substr(2)] = argv[++i];
  }
  try {
    webhook::ShutdownSignal shutdown;
    Script script = parse_script(args.count("script") ? args["script"] : "ok");
    int port = args.count("port") ? std::stoi(args["port"]) : 0;
    webhook::testing::TestReceiver sink(std::nullopt, 64, port);
    // The script counts tries per path; the default script applies to every path.
    sink.set_default_script(script);
    if (args.count("port-file") != 0) {
      std::ofstream port_file(args["port-file"] + ".tmp");
      port_file << sink.port() << "\n";
      port_file.close();
      std::rename((args["port-file"] + ".tmp").c_str(), args["port-file"].c_str());
    }
    std::cerr << "webhook-sink: listening on " << sink.url("/") << "\n";
    std::ofstream log;
    if (args.count("log") != 0) log.open(args["log"], std::ios::app);
    std::size_t logged = 0;
    auto drain = [&] {
      for (const auto& request : sink.requests_since(logged)) {
        ++logged;
        Json headers = Json::object();
        for (const auto& [name, value] : request.headers) headers[name] = value;
        if (log.is_open()) {
          log << Json{{"received_at_ms", request.received_at_ms},
                      {"method", request.method},
                      {"target", request.target},
                      {"path", request.path},
                      {"headers", headers},
                      {"body", request.body},
                      {"try", request.try_number},
                      {"status", request.status}}
                     .dump()
              << '\n'
              << std::flush;
        }
        if (print) {
          std::cout << request.method << " " << request.target << "  -> "
                    << (request.status == 0 ? std::string("dropped")
                                            : std::to_string(request.status))
                    << "  (Idempotency-Key " << request.header("Idempotency-Key") << ")"
                    << std::endl;
        }
      }
    };
    while (!shutdown.wait_for(std::chrono::milliseconds(20))) drain();
    sink.stop();
    drain();
    std::cerr << "webhook-sink: stopped after " << logged << " requests\n";
    return 0;
  } catch (const std::exception& error) {
    std::cerr << "webhook-sink: " << error.what() << "\n";
    return 1;
  }
}
