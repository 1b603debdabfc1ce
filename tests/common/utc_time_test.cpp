#include "common/utc_time.h"

#include <gtest/gtest.h>

namespace webhook {
namespace {

TEST(UtcTimeTest, FormatsEpochMillisecondsAsIso8601) {
  EXPECT_EQ(format_utc_ms(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_utc_ms(1700000000250), "2023-11-14T22:13:20.250Z");
  EXPECT_EQ(format_utc_ms(-1), "1969-12-31T23:59:59.999Z");
}

}  // namespace
}  // namespace webhook
