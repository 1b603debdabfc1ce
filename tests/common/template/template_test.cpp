// Unit tests of the template language, construct by construct, and of every error class's
// message. CPython-equivalence over many inputs is differential_test.cpp's job; these pin
// the behaviours a reader should see spelled out.
#include "common/template/template.h"

#include <gtest/gtest.h>

#include <string>

#include "common/clock.h"

namespace webhook::tmpl {
namespace {

using Json = nlohmann::ordered_json;

const Json kItem = Json::parse(R"({"node": {"connector": {"name": "ImportFile"},
  "messages": [{"message": "done"}, {"message": "it's"}], "n": 5, "f": 2.5, "none": null,
  "t": true, "l": [3, 1, 2], "u": "é中"}})");

std::string render(const std::string& source, const Json& item = kItem) {
  RenderResult r = Template::compile(source).render(item);
  EXPECT_TRUE(r.ok()) << source << " -> " << r.error;
  return r.text;
}

std::string runtime_error(const std::string& source, const Json& item = kItem) {
  RenderResult r = Template::compile(source).render(item);
  EXPECT_FALSE(r.ok()) << source << " rendered " << r.text;
  EXPECT_TRUE(r.text.empty());
  return r.error;
}

std::string compile_error(const std::string& source) {
  try {
    Template::compile(source);
  } catch (const CompileError& e) {
    return e.reason();
  }
  ADD_FAILURE() << source << " compiled";
  return "";
}

TEST(Template, SeedUrlRendersLikeThePythonConnector) {
  EXPECT_EQ(render("http://localhost?connector_name={item['node']['connector']['name']}"
                   "&messages={item['node']['messages']}"),
            "http://localhost?connector_name=ImportFile&messages=[{'message': 'done'}, "
            "{'message': \"it's\"}]");
}

TEST(Template, LiteralTextAndDoubledBraces) {
  EXPECT_EQ(render("plain"), "plain");
  EXPECT_EQ(render("{{a}} {{{item['node']['n']}}}"), "{a} {5}");
  EXPECT_EQ(render(""), "");
  // Python string escapes apply; an unknown one (\\s) keeps its backslash.
  EXPECT_EQ(render("back\\slash\\n"), "back\\slash\n");
}

TEST(Template, ConversionsAndSelfDocumentingFields) {
  EXPECT_EQ(render("{item['node']['u']!r}"), "'é中'");
  EXPECT_EQ(render("{item['node']['u']!a}"), "'\\xe9\\u4e2d'");
  EXPECT_EQ(render("{item['node']['none']!s}"), "None");
  EXPECT_EQ(render("{1 + 1 = }"), "1 + 1 = 2");
  EXPECT_EQ(render("{'x'=:>3}"), "'x'=  x");
}

TEST(Template, FormatSpecsIncludingNestedFields) {
  EXPECT_EQ(render("{1234567:,}|{3.14159:.2f}|{'ab':*^6}|{255:#x}|{0.25:.0%}|{-5:=+6}"),
            "1,234,567|3.14|**ab**|0xff|25%|-    5");
  EXPECT_EQ(render("{item['node']['f']:{item['node']['n']}.{1}f}"), "  2.5");
  EXPECT_EQ(render("{1e16}|{1e-5}|{0.1 + 0.2}|{float('inf')}|{-0.0}"),
            "1e+16|1e-05|0.30000000000000004|inf|-0.0");
}

TEST(Template, PrecedenceAndArithmeticFollowPython) {
  EXPECT_EQ(render("{1 + 2 * 3}|{2 ** 3 ** 2}|{-2 ** 2}|{-7 // 2}|{-7 % 3}|{7 / 2}|{2 ** -1}"),
            "7|512|-4|-4|2|3.5|0.5");
  EXPECT_EQ(render("{'ab' * 2}|{[1] + [2]}|{(1,) * 2}|{True + 1}"), "abab|[1, 2]|(1, 1)|2");
  EXPECT_EQ(render("{1 < 2 < 3}|{1 == 1.0}|{'a' in 'cat'}|{3 not in [1]}|{None is None}"),
            "True|True|True|True|True");
  EXPECT_EQ(render("{0 or 'x'}|{'' and 1}|{not []}|{1 if item['node']['t'] else 2}"), "x||True|1");
}

TEST(Template, ContainersPrintAsPython) {
  EXPECT_EQ(render("{[1, 'a', None, True, 2.0, (1,), {'k': []}]}"),
            "[1, 'a', None, True, 2.0, (1,), {'k': []}]");
  EXPECT_EQ(render("{item['node']['l'][-1]}|{item['node']['l'][::-1]}|{'héllo'[1:3]}"),
            "2|[2, 1, 3]|él");
}

TEST(Template, BuiltinsMethodsAndComprehensions) {
  EXPECT_EQ(render("{','.join(m['message'] for m in item['node']['messages'])}"), "done,it's");
  EXPECT_EQ(render("{[x * 2 for x in item['node']['l'] if x > 1]}"), "[6, 4]");
  EXPECT_EQ(render("{len(item['node']['u'])}|{sorted(item['node']['l'])}|{max(1, 5, 3)}"),
            "2|[1, 2, 3]|5");
  EXPECT_EQ(render("{round(2.5)}|{round(2.675, 2)}|{abs(-3)}|{int('  42 ')}|{float('1e3')}"),
            "2|2.67|3|42|1000.0");
  EXPECT_EQ(render("{' A b '.strip().lower()}|{'a,b'.split(',')}|{'x'.upper().replace('X', 'y')}"),
            "a b|['a', 'b']|y");
  EXPECT_EQ(render("{item.get('nope', 'dflt')}|{'abc'.startswith('ab')}|{'abc'.endswith('x')}"),
            "dflt|True|False");
  EXPECT_EQ(render("{json.dumps(item['node']['messages'][0])}|{json.dumps('é')}"),
            "{\"message\": \"done\"}|\"\\u00e9\"");
}

TEST(Template, AnyAndAllStopAtTheFirstAnswerAsPythonsGenerators) {
  Json item = Json::parse(R"({"data": {"object_marking_refs": ["marking--a", "marking--red"]}})");
  EXPECT_EQ(
      render("{any(m == 'marking--red' for m in item['data'].get('object_marking_refs', []))}",
             item),
      "True");
  EXPECT_EQ(
      render("{all(m.startswith('marking--') for m in item['data']['object_marking_refs'])}", item),
      "True");
  EXPECT_EQ(render("{any([])} {all([])} {any('')} {all({0: 1})}"), "False True False False");
  // Lazy: 1/0 is never computed once the answer is known.
  EXPECT_EQ(render("{any(1 / x for x in [1, 0])} {all(10 // x - 10 for x in [1, 0])}"),
            "True False");
  EXPECT_EQ(runtime_error("{any(5)}"), "TypeError: 'int' object is not iterable");
}

TEST(Template, ExtrasIsoAndQuote) {
  EXPECT_EQ(render("{iso(1704067200000)}|{iso(1700000000123)}"),
            "2024-01-01T00:00:00.000Z|2023-11-14T22:13:20.123Z");
  EXPECT_EQ(render("{quote('a b/é&x=1')}"), "a%20b%2F%C3%A9%26x%3D1");
}

TEST(Template, TimeComesFromTheInjectedClock) {
  ManualClock clock(1'700'000'000'500);
  RenderResult r = Template::compile("{time.time()}").render(kItem, clock);
  EXPECT_EQ(r.text, "1700000000.5");
}

TEST(Template, RuntimeErrorsCarryPythonsExceptionAndMessage) {
  EXPECT_EQ(runtime_error("{item['name']}"), "KeyError: 'name'");
  EXPECT_EQ(runtime_error("{'a' + 1}"), "TypeError: can only concatenate str (not \"int\") to str");
  EXPECT_EQ(runtime_error("{item['node']['l'][7]}"), "IndexError: list index out of range");
  EXPECT_EQ(runtime_error("{1 / 0}"), "ZeroDivisionError: division by zero");
  EXPECT_EQ(runtime_error("{1 // 0}"), "ZeroDivisionError: integer division or modulo by zero");
  EXPECT_EQ(runtime_error("{item['node']['none'][0]}"),
            "TypeError: 'NoneType' object is not subscriptable");
  EXPECT_EQ(runtime_error("{int('x')}"), "ValueError: invalid literal for int() with base 10: 'x'");
  EXPECT_EQ(runtime_error("{1 < 'a'}"),
            "TypeError: '<' not supported between instances of 'int' and 'str'");
  EXPECT_EQ(runtime_error("{(5).lower()}"),
            "AttributeError: 'int' object has no attribute 'lower'");
  EXPECT_EQ(runtime_error("{'a':d}"),
            "ValueError: Unknown format code 'd' for object of type 'str'");
  EXPECT_EQ(runtime_error("{min([])}"), "ValueError: min() arg is an empty sequence");
}

TEST(Template, IntsAreUnboundedAsInPythonUpToTheTemplateLimit) {
  EXPECT_EQ(render("{9223372036854775807 + 1}"), "9223372036854775808");
  EXPECT_EQ(render("{2 ** 64:,}"), "18,446,744,073,709,551,616");
  EXPECT_EQ(render("{99999999999999999999 // -7}"), "-14285714285714285715");
  EXPECT_EQ(render("{-(-9223372036854775807 - 1)}"), "9223372036854775808");
  EXPECT_EQ(runtime_error("{float(10 ** 400)}"),
            "OverflowError: int too large to convert to float");
  EXPECT_EQ(runtime_error("{str(10 ** 4300)}"),
            "ValueError: Exceeds the limit (4300 digits) for integer string conversion; use "
            "sys.set_int_max_str_digits() to increase the limit");
  EXPECT_EQ(runtime_error("{7 ** 10 ** 9}"),
            "OverflowError: the int would exceed 33220 bits, about 10,000 digits (the template "
            "limit)");
}

// Integers of 2^63 and above in a JSON answer (Hostile input, item 3): an unsigned 64-bit
// number, and the parser's binary node of exact digits for anything larger.
TEST(Template, IntsBeyond64BitsInTheItemKeepTheirDigits) {
  Json item = Json::object();
  item["u"] = 18446744073709551615ULL;
  std::string digits = "123456789012345678901234567890";
  item["big"] = Json::binary(std::vector<std::uint8_t>(digits.begin(), digits.end()), 0x42);
  std::string negative = "-99999999999999999999999";
  item["neg"] = Json::binary(std::vector<std::uint8_t>(negative.begin(), negative.end()), 0x42);
  EXPECT_EQ(render("{item['u']} {item['u'] + 1}", item),
            "18446744073709551615 18446744073709551616");
  EXPECT_EQ(render("{item['big']} {item['big'] * 10 + 1} {item['neg']}", item),
            digits + " " + digits + "1 " + negative);
  EXPECT_EQ(render("{json.dumps(item)}", item),
            "{\"u\": 18446744073709551615, \"big\": " + digits + ", \"neg\": " + negative + "}");
  EXPECT_EQ(render("{item['big'] > 1.2345678901234567e29} {float(item['big'])}", item),
            "True 1.2345678901234568e+29");
}

// The Python connector evaluated f" + WEBHOOK_URL + " (and f' + query + '): a quote of that
// kind ends the f-string, and what follows is Python source.
TEST(Template, AQuoteEndsTheFStringAsInThePythonConnector) {
  EXPECT_EQ(render("a\"\"b{{"), "ab{{");  // f"a" "" then the plain literal b{{: no replacement
  EXPECT_EQ(render("n=\" + str(item['node']['n'] * 2) + \"!"), "n=10!");
  EXPECT_EQ(render("{1}\" f\"{2:>3}\" r\"\\d"), "1  2\\d");
  EXPECT_EQ(render("say \\\"hi\\\""), "say \"hi\"");  // an escaped quote does not end it
  EXPECT_EQ(compile_error("{item[\"node\"]}"), "f-string: unmatched '['");
  EXPECT_EQ(compile_error("a\" x \""), "invalid syntax: unexpected 'x'");
  EXPECT_EQ(compile_error("a\""), "unterminated string literal");
  try {
    Template::compile("ab\" x \"");
  } catch (const CompileError& e) {
    EXPECT_EQ(e.column(), 4u);  // in the setting's text, not in the spliced source
  }
  // Header and body templates (which the Python connector did not have) hold JSON.
  EXPECT_EQ(
      Template::compile("{{\"id\": \"{item['node']['n']}\"}}", Quoting::kWhole).render(kItem).text,
      "{\"id\": \"5\"}");
  EXPECT_EQ(QueryTemplate::compile("{{q(t:\"LAST_POLL_TIME\")}}' + ' ok").render(7).text,
            "{q(t:\"7\")} ok");
}

TEST(Template, LimitsStopHostileTemplatesWithAClearError) {
  EXPECT_EQ(runtime_error("{'x' * 100000000}"),
            "MemoryError: the result would exceed 10485760 bytes (the template limit)");
  EXPECT_EQ(runtime_error("{[0] * 10000000}"),
            "MemoryError: the result would exceed 1000000 elements (the template limit)");
  EXPECT_EQ(runtime_error("{len([1 for a in 'x' * 5000 for b in 'y' * 5000 if 0])}"),
            "RuntimeError: the template exceeded its budget of 10000000 loop steps per item");
  Json deep = Json::array();
  for (int i = 0; i < 1000; ++i) deep = Json::array({deep});
  EXPECT_EQ(runtime_error("{item}", deep),
            "RecursionError: maximum recursion depth exceeded while getting the repr of an object");
  EXPECT_EQ(compile_error("{" + std::string(150, '(') + "1" + std::string(150, ')') + "}"),
            "expression nested too deeply (the limit is 100)");
}

TEST(Template, FStringGrammarErrorsAreWordedAsPython) {
  EXPECT_EQ(compile_error("a}b"), "f-string: single '}' is not allowed");
  EXPECT_EQ(compile_error("{item"), "f-string: expecting '}'");
  EXPECT_EQ(compile_error("{}"), "f-string: empty expression not allowed");
  EXPECT_EQ(compile_error("{item!x}"),
            "f-string: invalid conversion character: expected 's', 'r', or 'a'");
  EXPECT_EQ(compile_error("{item#}"), "f-string expression part cannot include '#'");
  EXPECT_EQ(compile_error("{'a\\n'}"), "f-string expression part cannot include a backslash");
  EXPECT_EQ(compile_error("{[)}"),
            "f-string: closing parenthesis ')' does not match opening parenthesis '['");
  EXPECT_EQ(compile_error("{1:{2:{3}}}"), "f-string: expressions nested too deeply");
}

TEST(Template, ConstructsOutsideTheSubsetAreCompileErrorsNamingThem) {
  EXPECT_EQ(compile_error("{__import__('os')}"),
            "the name '__import__' is not supported (names: item, json, time, the built-ins)");
  EXPECT_EQ(compile_error("{item.__class__}"), "the attribute '.__class__' is not supported");
  EXPECT_EQ(compile_error("{lambda: 1}"), "lambda expressions are not supported");
  EXPECT_EQ(compile_error("{1 | 2}"), "the operator '|' is not supported");
  EXPECT_EQ(compile_error("{f'x'}"), "nested f-strings are not supported");
  EXPECT_EQ(compile_error("{{1, 2}}x{ {1, 2} }"), "set displays are not supported");
  EXPECT_EQ(compile_error("{len}"), "the built-in 'len' can only be called");
  EXPECT_EQ(compile_error("{json.loads('1')}"),
            "only json.dumps() is supported from the module 'json'");
  EXPECT_EQ(compile_error("{sorted([1], key=None)}"),
            "keyword argument 'key' of sorted() is not supported");
  EXPECT_EQ(compile_error("{(x for x in [1])}"),
            "generator expressions are only supported as a call's argument");
}

TEST(Template, CompileErrorShowsTheTemplateAndACaret) {
  try {
    Template::compile("http://x?a={item['a']}&b={item['b'] +}");
    FAIL();
  } catch (const CompileError& e) {
    EXPECT_EQ(e.column(), 37u);
    EXPECT_EQ(std::string(e.what()),
              "invalid syntax: the expression ends too early (line 1, column 38)\n"
              "  http://x?a={item['a']}&b={item['b'] +}\n"
              "                                       ^");
  }
}

TEST(Template, CompiledTemplateIsReusedAcrossItems) {
  Template t = Template::compile("{item['k']}");
  EXPECT_EQ(t.render(Json{{"k", 1}}).text, "1");
  EXPECT_EQ(t.render(Json{{"k", "two"}}).text, "two");
  EXPECT_EQ(t.render(Json{{"j", 3}}).error, "KeyError: 'k'");
  Template copy = t;
  EXPECT_EQ(copy.source(), "{item['k']}");
}

TEST(Template, DefaultConstructedTemplateFailsCleanly) {
  Template t;
  EXPECT_EQ(t.source(), "");
  EXPECT_EQ(t.render(kItem).error, "SystemError: the template was never compiled");
}

TEST(QueryTemplate, ReplacesLastPollTimeThenEvaluates) {
  auto q = QueryTemplate::compile(
      "{{works(filters:[{{key:received_time,values:[\"{LAST_POLL_TIME-60000*3}\"]}},"
      "{{key:completed_time,values:[\"LAST_POLL_TIME\"]}}])}}");
  EXPECT_EQ(q.render(1700000000000).text,
            "{works(filters:[{key:received_time,values:[\"1699999820000\"]},"
            "{key:completed_time,values:[\"1700000000000\"]}])}");
  EXPECT_EQ(QueryTemplate::compile("{iso(LAST_POLL_TIME)}").render(0).text,
            "1970-01-01T00:00:00.000Z");
}

TEST(QueryTemplate, HasNoItemAndReportsBadTemplatesAtCompileTime) {
  EXPECT_THROW(QueryTemplate::compile("{item}"), CompileError);
  EXPECT_THROW(QueryTemplate::compile("{LAST_POLL_TIME"), CompileError);
  EXPECT_EQ(QueryTemplate::compile("{LAST_POLL_TIME // 0}").render(5).error,
            "ZeroDivisionError: integer division or modulo by zero");
}

TEST(DataLocation, SelectsThroughKeysAndIndices) {
  Json doc = Json::parse(R"({"data": {"works": {"edges": [{"a": 1}, {"a": 2}]}, "n": null}})");
  EXPECT_EQ(*DataLocation::compile("['data']['works']['edges']").select(doc),
            doc["data"]["works"]["edges"]);
  EXPECT_EQ(*DataLocation::compile("[\"data\"][\"works\"][\"edges\"][-1]['a']").select(doc), 2);
  EXPECT_EQ(*DataLocation::compile("['data']['works']['edges'][0]").select(doc), Json({{"a", 1}}));
  EXPECT_EQ(*DataLocation::compile("").select(doc), doc);
}

TEST(DataLocation, MissingOutOfRangeOrNullIsNoData) {
  Json doc = Json::parse(R"({"data": {"works": {"edges": [1]}, "n": null, "s": "text"}})");
  EXPECT_EQ(DataLocation::compile("['data']['users']").select(doc), nullptr);
  EXPECT_EQ(DataLocation::compile("['data']['works']['edges'][1]").select(doc), nullptr);
  EXPECT_EQ(DataLocation::compile("['data']['works']['edges'][-2]").select(doc), nullptr);
  EXPECT_EQ(DataLocation::compile("['data']['n']").select(doc), nullptr);
  EXPECT_EQ(DataLocation::compile("['data']['s'][0]").select(doc), nullptr);
  EXPECT_EQ(DataLocation::compile("['data'][0]").select(doc), nullptr);
}

TEST(DataLocation, RejectsAnythingButSubscripts) {
  EXPECT_THROW(DataLocation::compile("data['x']"), CompileError);
  EXPECT_THROW(DataLocation::compile("['x'"), CompileError);
  EXPECT_THROW(DataLocation::compile("[x]"), CompileError);
  EXPECT_THROW(DataLocation::compile("['x'] + 1"), CompileError);
}

}  // namespace
}  // namespace webhook::tmpl
