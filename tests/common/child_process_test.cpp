#include "tests/support/child_process.h"

#include <signal.h>

#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"

namespace webhook::testing {
namespace {

TEST(ChildProcessTest, ReportsExitCodeAndOutput) {
  TempDir dir;
  ChildProcess child({"/bin/sh", "-c", "echo \"hello $GREETING\"; exit 3"}, {{"GREETING", "you"}},
                     dir.file("out.log"));
  EXPECT_EQ(child.wait_for(std::chrono::seconds(30)), 3);
  EXPECT_EQ(child.output(), "hello you\n");
}

TEST(ChildProcessTest, SignalEndsChildWith128PlusSignal) {
  TempDir dir;
  ChildProcess child({"/bin/sleep", "600"}, {}, dir.file("out.log"));
  EXPECT_TRUE(child.running());
  child.signal(SIGKILL);
  EXPECT_EQ(child.wait_for(std::chrono::seconds(30)), 128 + SIGKILL);
}

TEST(ChildProcessTest, RunCommandFeedsStdinAndSplitsOutputs) {
  auto r = run_command({"/bin/sh", "-c", "cat; echo err >&2; exit 1"}, {}, "piped");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "piped");
  EXPECT_EQ(r.err, "err\n");
}

}  // namespace
}  // namespace webhook::testing
