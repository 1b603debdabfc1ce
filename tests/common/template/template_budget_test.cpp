// Hostile templates (issue "Hostile input", item 4): aliased containers (one inner list
// held a million times) whose repr, comparison or search would run for hours or grow to
// gigabytes while each value passes the size caps. Each must fail the item with a clear
// error naming the limit, never a hang or unbounded memory.
#include <gtest/gtest.h>

#include <string>

#include "common/template/template.h"

namespace webhook::tmpl {
namespace {

using Json = nlohmann::ordered_json;

std::string runtime_error(const std::string& source) {
  RenderResult r = Template::compile(source).render(Json::object());
  EXPECT_FALSE(r.ok()) << source << " rendered " << r.text.substr(0, 80);
  EXPECT_TRUE(r.text.empty());
  return r.error;
}

const char kTextLimit[] =
    "MemoryError: the result would exceed 10485760 bytes (the template limit)";
const char kWorkLimit[] =
    "RuntimeError: the template exceeded its budget of 50000000 element visits per item (repr, "
    "comparisons, searches, copies)";
const char kMemoryLimit[] =
    "MemoryError: the template built more than 268435456 bytes of values for one item (the "
    "template limit)";

// One inner list, aliased: its size counted once, its elements visited ten or a million
// times by repr, comparison and max.
TEST(TemplateBudget, AliasedListsCannotBypassTheTextAndWorkLimits) {
  EXPECT_EQ(runtime_error("{len(str([[1]*1000000]*10))}"), kTextLimit);
  EXPECT_EQ(runtime_error("{[[1]*1000000]*1000000}"), kTextLimit);
  EXPECT_EQ(runtime_error("{[[1]*1000000]*1000000!r}"), kTextLimit);
  EXPECT_EQ(runtime_error("{json.dumps([[1]*1000000]*1000000)}"), kTextLimit);
  EXPECT_EQ(runtime_error("{max([[1]*1000000]*1000000)}"), kWorkLimit);
  EXPECT_EQ(runtime_error("{[[1]*1000000]*1000000 == [[1]*1000000]*1000000}"), kWorkLimit);
  EXPECT_EQ(runtime_error("{[[1]*1000000]*1000000 < [[1]*1000000]*1000000}"), kWorkLimit);
  EXPECT_EQ(runtime_error("{[1]*999999+[2] in [[1]*1000000]*1000000}"), kWorkLimit);
  EXPECT_EQ(runtime_error("{sorted([[1]*1000000]*1000000)}"), kWorkLimit);
  EXPECT_EQ(runtime_error("{len([1 for x in [[1]*1000000]*1000 for y in x if 0])}"),
            "RuntimeError: the template exceeded its budget of 10000000 loop steps per item");
}

TEST(TemplateBudget, BuildingManyLargeValuesIsBoundedInMemory) {
  // Each element a fresh million-element list: no single value passes the caps.
  EXPECT_EQ(runtime_error("{len([[0]*1000000 for x in 'a'*1000])}"), kMemoryLimit);
  EXPECT_EQ(runtime_error("{len(['x'*10000000 for x in 'a'*1000])}"), kMemoryLimit);
}

TEST(TemplateBudget, TheBudgetIsPerRendering) {
  // Each rendering spends most of the budget: if it carried over, the second would fail.
  Template t = Template::compile("{[[1]*1000]*30000 == [[1]*1000]*30000}");
  for (int i = 0; i < 3; ++i) {
    RenderResult r = t.render(Json::object());
    EXPECT_TRUE(r.ok()) << r.error;
    EXPECT_EQ(r.text, "True");
  }
}

}  // namespace
}  // namespace webhook::tmpl
