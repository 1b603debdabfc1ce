// The console's style sheet and script, compiled in: the console fetches nothing from the
// internet, so it works on an isolated host and under a strict Content-Security-Policy.
#pragma once

#include <string_view>

namespace webhook::ctl::console {

// Served as /console.css.
extern const std::string_view kStyleSheet;
// Served as /console.js: optional auto-refresh of the overview; every page works without it.
extern const std::string_view kScript;

}  // namespace webhook::ctl::console
