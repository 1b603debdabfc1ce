// The real webhook-poller given templates that used to crash it (issue "Hostile input",
// item 5): a flat chain of 20,000 terms passed the nesting limit, then overflowed the stack
// when the first item was rendered. It must now refuse the setting at start, exit 2, and
// name the setting and the column, before it polls anything.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "tests/poller/poller_test_env.h"
#include "tests/support/child_process.h"

namespace webhook::poller::testing {
namespace {

using webhook::testing::run_command;
using webhook::testing::TempDir;

const std::string kPoller = WEBHOOK_BINARY_DIR "/poller/webhook-poller";

std::string chain(const std::string& term, const std::string& op, int terms) {
  std::string s = term;
  for (int i = 1; i < terms; ++i) s += op + term;
  return s;
}

TEST(HostileTemplateProcess, FlatChainsAreRefusedAtStartWithExit2) {
  const std::string fields[] = {
      chain("1", "+", 20000),
      chain("2", "**", 20000),
      chain("item", " and ", 100000),
      "item" + chain("[0]", "", 20000),
      "item" + chain("[0:1]", "", 20000),
  };
  for (const auto& field : fields) {
    FakeOpencti fake;
    TempDir dir;
    SystemClock clock;
    int64_t now = clock.now_ms();
    fake.records().add("works", FakeRecords::work("w1", "Import", {"done"}, now - 1000, now));
    // In config.yml: 100,000 terms are longer than one environment variable may be.
    auto env = poller_process_env(fake, dir);
    env.erase("WEBHOOK_URL");
    std::string config =
        dir.write("config.yml", "webhook:\n  url: 'http://receiver.test/{" + field + "}'\n");
    auto r = run_command({kPoller, "--once", "--config", config}, env);
    EXPECT_EQ(r.exit_code, 2) << field.substr(0, 30) << ": " << r.err.substr(0, 300);
    EXPECT_NE(r.err.find("WEBHOOK_URL: expression too deep: more than 1000 levels"),
              std::string::npos)
        << r.err.substr(0, 300);
    EXPECT_NE(r.err.find("column "), std::string::npos) << r.err.substr(0, 300);
    EXPECT_EQ(fake.request_count(), 0u) << "it polled before refusing the template";
  }
}

}  // namespace
}  // namespace webhook::poller::testing
