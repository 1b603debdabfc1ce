// JsonCheck says "surely JSON" only for texts read_json reads: checked on the texts where
// simdjson and read_json (json.loads' rules) disagree or come close to.
#include "poller/json_check.h"

#include <gtest/gtest.h>

#include "common/json_reader.h"

namespace webhook::poller {
namespace {

TEST(JsonCheck, SaysSurelyOnlyForTextsReadJsonReads) {
  const std::string deep_ok = std::string(500, '[') + std::string(500, ']');
  const std::string too_deep = std::string(5000, '[') + std::string(5000, ']');
  const std::string long_int = "[" + std::string(5000, '7') + "]";
  struct Case {
    std::string text;
    bool surely;
  } cases[] = {
      {R"({"type":"create","data":{"name":"caf\u00e9 été"}})", true},
      {"  [1, 2.5, -3e10, true, false, null, \"x\"]\n", true},
      {deep_ok, true},
      {"", false},
      {"{\"a\":1", false},
      {"{\"a\":1} trailing", false},
      {"\xEF\xBB\xBF{}", false},                    // BOM: read_json refuses it too
      {R"(["\ud800"])", false},                     // lone surrogate: read_json reads it
      {"[NaN]", false},                             // read_json reads it
      {"[1e999]", false},                           // read_json reads it as inf
      {"[123456789012345678901234567890]", false},  // read_json keeps the digits
      {"[\"\xFF\"]", false},                        // invalid UTF-8: read_json replaces it
      {"[\"a\x01\"]", false},                       // a control character: refused by both
      {too_deep, false},
      {long_int, false},
  };
  JsonCheck check;
  for (const auto& c : cases) {
    const bool surely = check.surely_json(c.text);
    EXPECT_EQ(surely, c.surely) << c.text.substr(0, 60);
    if (surely) {
      EXPECT_TRUE(read_json(c.text).ok()) << c.text.substr(0, 60);
    }
  }
}

}  // namespace
}  // namespace webhook::poller
