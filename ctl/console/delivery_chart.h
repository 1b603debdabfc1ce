// The overview's small chart: one feed's attempts per minute over the last hour as inline
// SVG bars, answered (2xx) stacked under failed. Inline so the page needs no script or
// image request. Pure function; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/store/job_store.h"

namespace webhook::ctl::console {

// `minutes` may hold other feeds' rows; only `feed`'s are drawn. `now` ends the hour.
std::string delivery_chart(const std::vector<store::AttemptMinute>& minutes, std::string_view feed,
                           int64_t now);

}  // namespace webhook::ctl::console
