// The bounds that keep a hostile template or item from exhausting memory or time: every
// string, list and the output are capped, loops share a step budget per rendering, and the
// work and memory a rendering really does (each element a repr, comparison or search
// visits; each string and container built) are counted, so that aliasing (`[[1]*10**6]*10**6`
// holds one inner list a million times) cannot multiply them past the caps. Crossing a bound
// is a runtime error (a failed item), never a crash or a hang. The budget is per thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "common/template/py_error.h"

namespace webhook::tmpl {

inline constexpr std::size_t kMaxTextSize = 10 * 1024 * 1024;  // bytes of any string or output
inline constexpr std::size_t kMaxListSize = 1'000'000;         // elements of a computed list
inline constexpr int64_t kMaxSteps = 10'000'000;               // loop turns per rendering
inline constexpr int64_t kMaxWork = 50'000'000;                // elements visited per rendering
inline constexpr int64_t kMaxMemory = 256 << 20;  // bytes of strings and containers built

// What the current rendering on this thread may still spend. Outside a rendering (compiling
// constants, tests calling the value model) the budget is practically unlimited.
struct Budget {
  int64_t work;
  int64_t memory;
};
inline constexpr Budget kUnlimitedBudget{INT64_MAX / 2, INT64_MAX / 2};
inline thread_local Budget t_budget = kUnlimitedBudget;

// Gives one rendering the full budget for its lifetime, then restores what was there.
class BudgetScope {
 public:
  BudgetScope() : saved_(t_budget) { t_budget = Budget{kMaxWork, kMaxMemory}; }
  ~BudgetScope() { t_budget = saved_; }
  BudgetScope(const BudgetScope&) = delete;
  BudgetScope& operator=(const BudgetScope&) = delete;

 private:
  Budget saved_;
};

[[noreturn]] inline void work_exceeded() {
  raise("RuntimeError", "the template exceeded its budget of " + std::to_string(kMaxWork) +
                            " element visits per item (repr, comparisons, searches, copies)");
}

[[noreturn]] inline void memory_exceeded() {
  raise("MemoryError", "the template built more than " + std::to_string(kMaxMemory) +
                           " bytes of values for one item (the template limit)");
}

// Counts `n` elements visited.
inline void spend_work(std::size_t n) {
  t_budget.work -= static_cast<int64_t>(n);
  if (t_budget.work < 0) work_exceeded();
}

// Counts `bytes` of values built (never given back: temporaries count too, which only a
// hostile template notices).
inline void spend_memory(std::size_t bytes) {
  t_budget.memory -= static_cast<int64_t>(bytes);
  if (t_budget.memory < 0) memory_exceeded();
}

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
