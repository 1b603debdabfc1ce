// A full disk while records flow: the database may not grow (SQLite's max_page_count, set
// through the store's test hook, as a file system that ran out of space would refuse it).
// The poller keeps its cursor behind every record not on disk and stays up; the dispatcher
// keeps its state; when the space comes back everything is delivered.
#include "tests/e2e/e2e_system.h"

namespace webhook::e2e {
namespace {

std::size_t occurrences(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

TEST(FullDisk, ThePollerKeepsItsCursorAndRecoversWhenSpaceReturns) {
  testing::RecordScheduleOptions schedule;
  schedule.every = 10ms;
  E2eSystem system({}, schedule);
  const std::string limit_file = system.dir().write("page-limit", "1000000000\n");
  system.env()["TEST_WEBHOOK_MAX_PAGE_COUNT_FILE"] = limit_file;
  system.start_poller();
  system.start_dispatcher();
  ASSERT_TRUE(eventually([&] { return system.cursor().has_value(); })) << system.logs();
  system.schedule().start();
  ASSERT_TRUE(system.sink().wait_for_count(20, 30s)) << system.logs();

  // The disk is full: not one more page.
  system.dir().write("page-limit", "1\n");
  const std::string full = "database or disk is full";
  ASSERT_TRUE(eventually(
      [&] { return occurrences(read_text(system.dir().file("poller.log")), full) >= 3; }, 60s))
      << system.logs();
  // Whatever the cursor says now, every record older than it (minus the overlap) is on disk.
  auto cursor = system.cursor();
  ASSERT_TRUE(cursor.has_value());
  auto db = system.db();
  std::set<std::string> on_disk;
  SQLite::Statement jobs(*db, "SELECT url FROM jobs");
  while (jobs.executeStep()) {
    for (const auto& [name, value] : query_parameters(jobs.getColumn(0).getString())) {
      if (name == "id") on_disk.insert(value);
    }
  }
  int passed = 0;
  for (const auto& record : system.schedule().made()) {
    if (record.visible_at_ms <= *cursor - 2000 && on_disk.count(record.id) == 0) ++passed;
  }
  EXPECT_EQ(passed, 0) << "the cursor passed records that are not on disk";
  EXPECT_LT(on_disk.size(), static_cast<std::size_t>(system.schedule().count()));
  EXPECT_TRUE(system.poller().running()) << system.logs();
  EXPECT_TRUE(system.dispatcher().running()) << system.logs();

  // Space returns.
  system.dir().write("page-limit", "1000000000\n");
  system.schedule().stop();
  ASSERT_TRUE(system.wait_all_delivered(60s)) << system.logs();
  EXPECT_GT(system.cursor().value_or(0), *cursor);
  EXPECT_EQ(system.scalar("SELECT count(*) FROM jobs"), system.schedule().count());
  ASSERT_TRUE(
      eventually([&] { return system.jobs_in("delivered") == system.schedule().count(); }, 30s))
      << system.logs();
  // A delivery is repeated only when its outcome could not be written (the disk was full)
  // and its lease ran out: the attempt log shows it as interrupted.
  std::map<std::string, int> by_key;
  for (const auto& r : system.sink().requests()) ++by_key[r.header("Idempotency-Key")];
  for (const auto& [key, count] : by_key) {
    if (count == 1) continue;
    EXPECT_GE(system.scalar("SELECT count(*) FROM attempts AS a JOIN jobs AS j ON j.seq = "
                            "a.job_seq WHERE j.id = '" +
                            key + "' AND a.error LIKE 'interrupted%'"),
              count - 1)
        << key;
  }
  EXPECT_EQ(system.stop_poller(), 0) << system.logs();
  EXPECT_EQ(system.stop_dispatcher(), 0) << system.logs();
}

}  // namespace
}  // namespace webhook::e2e
