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
  system.env()["WEBHOOK_UNSUCCESSFUL_RETRY_ATTEMPTS"] = "50";
  system.start_poller();
  system.start_dispatcher();
  ASSERT_TRUE(eventually([&] { return system.cursor().has_value(); })) << system.logs();
  system.schedule().start();
  ASSERT_TRUE(system.sink().wait_for_count(20, 30s)) << system.logs();
  // Jobs wait for the dispatcher when the disk fills up.
  EXPECT_EQ(system.stop_dispatcher(), 0);
  ASSERT_TRUE(eventually([&] { return system.jobs_in("pending") >= 30; })) << system.logs();

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
  // The dispatcher, started on the full disk against a receiver that fails with long answers
  // (each attempt keeps the first 4 KiB), cannot record what it does.
  system.sink().set_default_script(
      Script::always(Reply{503, std::string(3000, 'x'), {}, {}, false}));
  system.start_dispatcher();
  ASSERT_TRUE(eventually(
      [&] { return occurrences(read_text(system.dir().file("dispatcher.log")), full) >= 1; }, 60s))
      << system.logs();
  EXPECT_TRUE(system.dispatcher().running()) << system.logs();

  // Space returns, and the receiver too.
  system.dir().write("page-limit", "1000000000\n");
  system.sink().set_default_script(Script::always(Reply{}));
  system.schedule().stop();
  ASSERT_TRUE(system.wait_all_delivered(60s)) << system.logs();
  EXPECT_GT(system.cursor().value_or(0), *cursor);
  EXPECT_EQ(system.scalar("SELECT count(*) FROM jobs"), system.schedule().count());
  ASSERT_TRUE(
      eventually([&] { return system.jobs_in("delivered") == system.schedule().count(); }, 30s))
      << system.logs();
  // Each record was accepted once: the dispatcher lost no job and no outcome it recorded.
  system.expect_each_record_exactly_once();
  EXPECT_EQ(system.stop_poller(), 0) << system.logs();
  EXPECT_EQ(system.stop_dispatcher(), 0) << system.logs();
}

}  // namespace
}  // namespace webhook::e2e
