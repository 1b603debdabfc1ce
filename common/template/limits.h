// The bounds that keep a hostile template or item from exhausting memory or time: every
// string, list and the output are capped, and loops share a step budget per rendering.
// Crossing a bound is a runtime error (a failed item), never a crash or a hang.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "common/template/py_error.h"

namespace webhook::tmpl {

inline constexpr std::size_t kMaxTextSize = 10 * 1024 * 1024;  // bytes of any string or output
inline constexpr std::size_t kMaxListSize = 1'000'000;         // elements of a computed list
inline constexpr int64_t kMaxSteps = 10'000'000;               // loop turns per rendering

inline void check_text_size(std::size_t bytes) {
  if (bytes > kMaxTextSize) {
    raise("MemoryError", "the result would exceed " + std::to_string(kMaxTextSize) +
                             " bytes (the template limit)");
  }
}

inline void check_list_size(std::size_t elements) {
  if (elements > kMaxListSize) {
    raise("MemoryError", "the result would exceed " + std::to_string(kMaxListSize) +
                             " elements (the template limit)");
  }
}

}  // namespace webhook::tmpl
