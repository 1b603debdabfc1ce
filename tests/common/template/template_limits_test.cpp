// Hostile templates (issue "Hostile input", item 5): flat chains whose syntax tree would
// make evaluation (or the parser, for `**`) recurse deeper than the stack. Each must be a
// compile error with the column, never a crash.
#include <gtest/gtest.h>

#include <string>

#include "common/template/template.h"

namespace webhook::tmpl {
namespace {

using Json = nlohmann::ordered_json;

// `{first OP first OP ... first}` with `terms` terms.
std::string chain(const std::string& first, const std::string& op, int terms) {
  std::string s = "{" + first;
  for (int i = 1; i < terms; ++i) s += op + first;
  return s + "}";
}

// `{x` + `suffix` × count + `}`.
std::string repeated(const std::string& start, const std::string& suffix, int count) {
  std::string s = "{" + start;
  for (int i = 0; i < count; ++i) s += suffix;
  return s + "}";
}

struct Refused {
  std::string reason;
  std::size_t column = 0;
};

Refused compile_refused(const std::string& source) {
  try {
    Template::compile(source);
  } catch (const CompileError& e) {
    return {e.reason(), e.column()};
  }
  ADD_FAILURE() << source.substr(0, 80) << "... compiled";
  return {};
}

const char kTooDeep[] =
    "expression too deep: more than 1000 levels of operators, subscripts or calls (the template "
    "limit)";

TEST(TemplateLimits, FlatChainsOf20000TermsAreCompileErrorsWithTheColumn) {
  const std::string cases[] = {
      chain("1", "+", 20000),
      chain("2", "**", 20000),
      chain("1", " and ", 100000),
      chain("1", " or ", 100000),
      chain("1", "-", 20000),
      chain("1", "*", 20000),
      repeated("item", "[0]", 20000),
      repeated("item", "[0:1]", 20000),
      repeated("item", "[0:1:1]", 100000),
      repeated("'a'", ".lower()", 20000),
      chain("1", "+", 100000),
  };
  for (const auto& source : cases) {
    Refused r = compile_refused(source);
    EXPECT_EQ(r.reason, kTooDeep) << source.substr(0, 40);
    EXPECT_GT(r.column, 0u) << source.substr(0, 40);
    EXPECT_LT(r.column, source.size()) << source.substr(0, 40);
  }
}

TEST(TemplateLimits, ComprehensionLoopsCountTowardsTheDepth) {
  std::string source = "{[x";
  for (int i = 0; i < 2000; ++i) source += " for x in 'a'";
  source += "]}";
  EXPECT_EQ(compile_refused(source).reason, kTooDeep);
}

TEST(TemplateLimits, ChainsAsLongAsCPythonAcceptsStillRender) {
  Json item = Json::array({Json::array({Json::array({1})})});
  EXPECT_EQ(Template::compile(chain("1", "+", 900)).render(item).text, "900");
  EXPECT_EQ(Template::compile(chain("1", "**", 900)).render(item).text, "1");
  EXPECT_EQ(Template::compile(chain("1", " and ", 900)).render(item).text, "1");
  EXPECT_EQ(Template::compile(repeated("'abc'", "[0]", 900)).render(item).text, "a");
}

}  // namespace
}  // namespace webhook::tmpl
