#include "ctl/console/delivery_chart.h"

#include <algorithm>
#include <array>

#include "ctl/console/html_text.h"
#include "ctl/time_text.h"

namespace webhook::ctl::console {
namespace {

constexpr int kMinutes = 60;
constexpr int kBar = 5;  // px per minute, gap included
constexpr int kHeight = 44;

}  // namespace

std::string delivery_chart(const std::vector<store::AttemptMinute>& minutes, std::string_view feed,
                           int64_t now) {
  const int64_t last = now / 60000 * 60000;  // start of the current minute
  const int64_t first = last - (kMinutes - 1) * 60000;
  std::array<int64_t, kMinutes> ok{}, bad{};
  int64_t total_ok = 0, total_bad = 0;
  for (const auto& m : minutes) {
    if (m.feed != feed || m.minute < first || m.minute > last) continue;
    auto i = static_cast<std::size_t>((m.minute - first) / 60000);
    ok[i] += m.delivered;
    bad[i] += m.failed;
    total_ok += m.delivered;
    total_bad += m.failed;
  }
  int64_t peak = 1;
  for (int i = 0; i < kMinutes; ++i) peak = std::max(peak, ok[i] + bad[i]);
  const int width = kMinutes * kBar;
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(width) +
                    "\" height=\"" + std::to_string(kHeight + 14) +
                    "\" role=\"img\" aria-label=\"" + "attempts per minute, last hour\">";
  svg += "<rect x=\"0\" y=\"0\" width=\"" + std::to_string(width) + "\" height=\"" +
         std::to_string(kHeight) + "\" fill=\"#f8f9fb\"/>";
  for (int i = 0; i < kMinutes; ++i) {
    if (ok[i] + bad[i] == 0) continue;
    int h_ok = static_cast<int>(ok[i] * kHeight / peak);
    int h_bad = static_cast<int>(bad[i] * kHeight / peak);
    if (ok[i] > 0 && h_ok == 0) h_ok = 1;
    if (bad[i] > 0 && h_bad == 0) h_bad = 1;
    std::string x = std::to_string(i * kBar);
    std::string tip = "<title>" + format_utc(first + i * 60000).substr(11, 5) +
                      " UTC: " + std::to_string(ok[i]) + " delivered, " + std::to_string(bad[i]) +
                      " failed</title>";
    svg += "<g>" + tip;
    if (h_ok > 0) {
      svg += "<rect x=\"" + x + "\" y=\"" + std::to_string(kHeight - h_ok) + "\" width=\"" +
             std::to_string(kBar - 1) + "\" height=\"" + std::to_string(h_ok) +
             "\" fill=\"#1f8a4c\"/>";
    }
    if (h_bad > 0) {
      svg += "<rect x=\"" + x + "\" y=\"" + std::to_string(kHeight - h_ok - h_bad) + "\" width=\"" +
             std::to_string(kBar - 1) + "\" height=\"" + std::to_string(h_bad) +
             "\" fill=\"#c8322f\"/>";
    }
    svg += "</g>";
  }
  svg += "<text x=\"0\" y=\"" + std::to_string(kHeight + 12) +
         "\" font-size=\"10\" fill=\"#616e7c\">-60 min</text><text x=\"" + std::to_string(width) +
         "\" y=\"" + std::to_string(kHeight + 12) +
         "\" font-size=\"10\" fill=\"#616e7c\" text-anchor=\"end\">now</text></svg>";
  return "<div class=\"chart\">" + svg + "<div class=\"legend\" data-delivered=\"" +
         std::to_string(total_ok) + "\" data-failed=\"" + std::to_string(total_bad) + "\">" +
         std::to_string(total_ok) + " delivered · " + std::to_string(total_bad) +
         " failed in the last hour (" + escape_html(feed) + ")</div></div>";
}

}  // namespace webhook::ctl::console
