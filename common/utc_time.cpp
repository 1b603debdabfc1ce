#include "common/utc_time.h"

#include <climits>
#include <cstdio>
#include <ctime>

namespace webhook {
namespace {

void put2(char* at, int value) {
  at[0] = static_cast<char>('0' + value / 10);
  at[1] = static_cast<char>('0' + value % 10);
}

}  // namespace

std::string format_utc_ms(int64_t epoch_ms) {
  int64_t seconds = epoch_ms >= 0 ? epoch_ms / 1000 : (epoch_ms - 999) / 1000;
  int millis = static_cast<int>(epoch_ms - seconds * 1000);
  // Every log line carries one: the text up to the second is made once a second per thread
  // (gmtime_r and snprintf cost about 4,000 instructions, a tenth of a delivery's attempt
  // log line), then only the milliseconds are written.
  thread_local int64_t cached_second = INT64_MIN;
  thread_local char text[] = "0000-00-00T00:00:00.000Z";
  if (seconds != cached_second) {
    std::time_t t = static_cast<std::time_t>(seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    const int year = tm.tm_year + 1900;
    if (year < 0 || year > 9999) {
      // Not four digits: never a real time, written the long way and not kept.
      char other[96];
      std::snprintf(other, sizeof other, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", year, tm.tm_mon + 1,
                    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
      return other;
    }
    put2(text, year / 100);
    put2(text + 2, year % 100);
    put2(text + 5, tm.tm_mon + 1);
    put2(text + 8, tm.tm_mday);
    put2(text + 11, tm.tm_hour);
    put2(text + 14, tm.tm_min);
    put2(text + 17, tm.tm_sec);
    cached_second = seconds;
  }
  text[20] = static_cast<char>('0' + millis / 100);
  put2(text + 21, millis % 100);
  return std::string(text, sizeof text - 1);
}

}  // namespace webhook
