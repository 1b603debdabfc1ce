// Templates over what the JSON reader keeps and nlohmann never made: a lone surrogate in a
// string (ED A0 80), NaN and infinities, an exact big integer, a 1000-deep value. Every
// string method, repr, dumps and the URL encoder must give a result or a Python error, never
// crash or throw.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "common/json_reader.h"
#include "common/template/template.h"
#include "poller/sendable_url.h"

namespace webhook::poller {
namespace {

TEST(HostileItemRender, EveryTemplateOverALoneSurrogateGivesAResultOrAPythonError) {
  JsonReadResult read =
      read_json(R"({"s":"lone-\ud800-x","t":"\udfff","n":[NaN,Infinity,-Infinity,1e-999],)"
                R"("big":123456789012345678901234567890,"deep":)" +
                std::string(kMaxJsonDepth - 1, '[') + std::string(kMaxJsonDepth - 1, ']') + "}");
  ASSERT_TRUE(read.ok()) << read.error;
  const std::vector<std::string> templates = {"{item['s']}",
                                              "{item['s']!r}",
                                              "{item}",
                                              "{json.dumps(item)}",
                                              "{len(item['s'])}",
                                              "{item['s'][5]}",
                                              "{item['s'][::-1]}",
                                              "{item['s'].upper()}",
                                              "{item['s'].lower()}",
                                              "{item['s'].title()}",
                                              "{item['s'].capitalize()}",
                                              "{item['s'].swapcase()}",
                                              "{item['s'].casefold()}",
                                              "{item['s'].split('-')}",
                                              "{item['s'].replace('-', '+')}",
                                              "{item['s'].strip('x')}",
                                              "{item['s']:>20}",
                                              "{item['s'].center(30, '*')}",
                                              "{item['s'].encode()}",
                                              "{item['s'].isalpha()}",
                                              "{item['s'].find(item['t'])}",
                                              "{item['s'] + item['t']}",
                                              "{item['s'] < item['t']}",
                                              "{sorted(item['s'])}",
                                              "{item['s'].zfill(20)}",
                                              "{item['s'].ljust(12)}|{item['s'].rjust(12)}",
                                              "{','.join([item['s'], item['t']])}",
                                              "{item['s'].startswith('lone')}",
                                              "{item['s'].partition(item['s'][5])}",
                                              "{item['s'].count('-')}",
                                              "{item['n']}",
                                              "{item['n'][0] == item['n'][0]}",
                                              "{int(item['n'][1])}",
                                              "{item['big']}",
                                              "{item['big'] + 1}",
                                              "{json.dumps(item['s'])}",
                                              "{item['deep']}",
                                              "{str(item['deep'])}",
                                              "{item['deep'] == item['deep']}",
                                              "{json.dumps(item['deep'])}",
                                              "{item['s'].isascii()}",
                                              "{item['s'].splitlines()}",
                                              "{item['s'].expandtabs()}",
                                              "{'%s' % item['s']}",
                                              "{item['s']:.3}",
                                              "{item['s'].rsplit('-', 1)}",
                                              "{item['s'].index('x')}"};
  std::size_t compiled = 0;
  for (const auto& source : templates) {
    SCOPED_TRACE(source);
    std::optional<tmpl::Template> t;
    try {
      t = tmpl::Template::compile(source);
    } catch (const tmpl::CompileError&) {
      continue;  // a method the language does not have
    }
    ++compiled;
    tmpl::RenderResult r = t->render(read.value);
    if (!r.ok()) {
      EXPECT_FALSE(r.error.empty());
      continue;
    }
    EXPECT_NO_THROW(make_sendable_url("http://receiver.test/?v=" + r.text));
  }
  EXPECT_GT(compiled, templates.size() / 2);
  SendableUrl url = make_sendable_url("http://receiver.test/lone-\xED\xA0\x80-x");
  EXPECT_EQ(url.url, "http://receiver.test/lone-%ED%A0%80-x");  // as requests sends it
}

}  // namespace
}  // namespace webhook::poller
