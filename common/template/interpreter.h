// Walks a compiled template for one item: evaluates expressions over borrowed JSON, applies
// conversions and format specs, and writes the text. Rendering never modifies the tree, so
// one Program serves many threads; each rendering has its own Frame.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/template/syntax_tree.h"

namespace webhook::tmpl {

struct Frame {
  Value* slots;        // slot 0 is `item`; comprehension variables follow
  const Clock* clock;  // for time.time()
  int64_t steps = 0;   // loop turns so far, against kMaxSteps
};

Value evaluate(const Node& node, Frame& frame);
// Appends the rendering of `parts` to `out`. Throws PyError.
void render_parts(const std::vector<Part>& parts, Frame& frame, std::string& out);

// Runs a comprehension's loops lazily, as a Python generator: `visit` gets each element as
// it is computed and returns false to stop (any() and all() stop at the first answer).
void generate(const Node& comprehension, Frame& frame,
              const std::function<bool(const Value&)>& visit);

// Counts `n` loop turns against the budget.
void spend_steps(Frame& frame, int64_t n);

}  // namespace webhook::tmpl
