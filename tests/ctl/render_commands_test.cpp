// webhookctl render and extract, run as the real program: output bytes, exit codes and the
// batch protocol.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/temp_dir.h"

namespace {

struct CtlRun {
  int exit_code;
  std::string out, err;
};

std::string quote_arg(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

CtlRun webhookctl(const std::vector<std::string>& args, const std::string& input = "") {
  webhook::testing::TempDir dir;
  std::string cmd = WEBHOOK_BINARY_DIR "/ctl/webhookctl";
  for (const auto& a : args) cmd += " " + quote_arg(a);
  cmd += " < " + dir.write("in", input) + " > " + dir.file("out") + " 2> " + dir.file("err");
  int status = std::system(cmd.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(dir.file("out")),
          slurp(dir.file("err"))};
}

TEST(RenderCommand, PrintsTheRenderedTextExactlyWithoutNewline) {
  CtlRun r = webhookctl({"render", "--template", "x={item['a']}|{item['b']}", "--item",
                         R"({"a": "é", "b": [1, {"c": null}]})"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "x=é|[1, {'c': None}]");
}

// --item is read as the poller reads OpenCTI's answers: an integer beyond 64 bits keeps its
// digits, and 1e999 is accepted as Python's json.loads accepts it.
TEST(RenderCommand, ItemsAreReadAsThePollerReadsThem) {
  CtlRun r = webhookctl({"render", "--template", "{item['n'] + 1}|{item['f']}", "--item",
                         R"({"n": 123456789012345678901234567890, "f": 1e999})"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "123456789012345678901234567891|inf");
}

TEST(RenderCommand, CompileErrorExitsTwoWithTheCaret) {
  CtlRun r = webhookctl({"render", "--template", "a}b"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "f-string: single '}' is not allowed (line 1, column 2)\n  a}b\n   ^\n");
}

TEST(RenderCommand, RuntimeErrorExitsOneWithPythonsMessage) {
  CtlRun r = webhookctl({"render", "--template", "{item['name']}", "--item", "{}"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "KeyError: 'name'\n");
}

TEST(RenderCommand, QueryModeReplacesLastPollTime) {
  CtlRun r = webhookctl({"render", "--query", "--last-poll-time", "1700000000000", "--template",
                         "{{a:\"LAST_POLL_TIME\",b:\"{LAST_POLL_TIME-60000*3}\"}}"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{a:\"1700000000000\",b:\"1699999820000\"}");
}

TEST(RenderCommand, BatchAnswersOneJsonLinePerInputLine) {
  std::string input = R"({"template": "{item['a'] * 2}", "item": {"a": 21}})"
                      "\n"
                      R"({"template": "{item['x']}", "item": {}})"
                      "\n"
                      R"({"template": "{", "item": null})"
                      "\n"
                      R"({"template": "{LAST_POLL_TIME + 1}", "query": true, "last_poll_time": 41})"
                      "\n"
                      "not json\n";
  CtlRun r = webhookctl({"render", "--batch"}, input);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<nlohmann::json> lines;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[0], nlohmann::json({{"text", "42"}}));
  EXPECT_EQ(lines[1], nlohmann::json({{"error", "KeyError: 'x'"}, {"kind", "runtime"}}));
  EXPECT_EQ(lines[2], nlohmann::json({{"error", "f-string: expecting '}'"}, {"kind", "compile"}}));
  EXPECT_EQ(lines[3], nlohmann::json({{"text", "42"}}));
  EXPECT_EQ(lines[4]["kind"], "input");
}

TEST(ExtractCommand, PrintsTheSelectedValueOrNull) {
  std::string doc = R"({"data": {"works": {"edges": [{"n": 1}, {"n": 2}]}}})";
  CtlRun r = webhookctl({"extract", "--location", "['data']['works']['edges'][-1]"}, doc);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"n\":2}\n");
  r = webhookctl({"extract", "--location", "['data']['users']"}, doc);
  EXPECT_EQ(r.out, "null\n");
  r = webhookctl({"extract", "--location", "data"}, doc);
  EXPECT_EQ(r.exit_code, 2);
  r = webhookctl({"extract", "--location", "['n']"}, R"({"n": 18446744073709551616})");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "18446744073709551616\n");
}

}  // namespace
