#include "common/utc_time.h"

#include <gtest/gtest.h>

namespace webhook {
namespace {

TEST(UtcTimeTest, FormatsEpochMillisecondsAsIso8601) {
  EXPECT_EQ(format_utc_ms(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_utc_ms(1700000000250), "2023-11-14T22:13:20.250Z");
  EXPECT_EQ(format_utc_ms(-1), "1969-12-31T23:59:59.999Z");
}

// The text up to the second is kept from one call to the next: each call must still show
// its own second and milliseconds, whatever came before.
TEST(UtcTimeTest, ConsecutiveCallsEachShowTheirOwnTime) {
  EXPECT_EQ(format_utc_ms(1700000000250), "2023-11-14T22:13:20.250Z");
  EXPECT_EQ(format_utc_ms(1700000000007), "2023-11-14T22:13:20.007Z");
  EXPECT_EQ(format_utc_ms(1700000000999), "2023-11-14T22:13:20.999Z");
  EXPECT_EQ(format_utc_ms(1700000001000), "2023-11-14T22:13:21.000Z");
  EXPECT_EQ(format_utc_ms(1700000000250), "2023-11-14T22:13:20.250Z");
  EXPECT_EQ(format_utc_ms(951782400000), "2000-02-29T00:00:00.000Z");
  EXPECT_EQ(format_utc_ms(253402300799999), "9999-12-31T23:59:59.999Z");
  EXPECT_EQ(format_utc_ms(253402300800000), "10000-01-01T00:00:00.000Z");
  EXPECT_EQ(format_utc_ms(951782400000), "2000-02-29T00:00:00.000Z");
}

}  // namespace
}  // namespace webhook
