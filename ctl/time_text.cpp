#include "ctl/time_text.h"

#include "common/utc_time.h"

#include <cstdio>
#include <ctime>
#include <regex>

namespace webhook::ctl {

std::string format_utc(int64_t epoch_ms) { return format_utc_ms(epoch_ms); }

std::string format_age(int64_t ms) {
  if (ms < 0) return "-" + format_age(-ms);
  if (ms < 1000) return std::to_string(ms) + "ms";
  int64_t s = ms / 1000;
  if (s < 60) return std::to_string(s) + "s";
  if (s < 3600) return std::to_string(s / 60) + "m " + std::to_string(s % 60) + "s";
  if (s < 86400) return std::to_string(s / 3600) + "h " + std::to_string(s % 3600 / 60) + "m";
  return std::to_string(s / 86400) + "d " + std::to_string(s % 86400 / 3600) + "h";
}

std::optional<int64_t> parse_time(std::string_view text) {
  static const std::regex kEpoch(R"(\d{1,16})");
  static const std::regex kIso(
      R"((\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z|[+-]\d{2}:?\d{2})?)");
  std::string s(text);
  if (std::regex_match(s, kEpoch)) return std::stoll(s);
  std::smatch m;
  if (!std::regex_match(s, m, kIso)) return std::nullopt;
  auto number = [&](int i) { return m[i].matched ? std::stoi(m[i].str()) : 0; };
  std::tm tm{};
  tm.tm_year = number(1) - 1900;
  tm.tm_mon = number(2) - 1;
  tm.tm_mday = number(3);
  tm.tm_hour = number(4);
  tm.tm_min = number(5);
  tm.tm_sec = number(6);
  if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
      tm.tm_min > 59 || tm.tm_sec > 60) {
    return std::nullopt;
  }
  int64_t ms = static_cast<int64_t>(timegm(&tm)) * 1000;
  if (m[7].matched) {
    std::string fraction = (m[7].str() + "00").substr(0, 3);
    ms += std::stoi(fraction);
  }
  if (m[8].matched && m[8].str() != "Z") {
    std::string zone = m[8].str();
    int sign = zone[0] == '-' ? -1 : 1;
    std::string digits;
    for (char c : zone.substr(1)) {
      if (c != ':') digits += c;
    }
    int offset_min = std::stoi(digits.substr(0, 2)) * 60 + std::stoi(digits.substr(2, 2));
    ms -= sign * static_cast<int64_t>(offset_min) * 60000;
  }
  return ms;
}

}  // namespace webhook::ctl
