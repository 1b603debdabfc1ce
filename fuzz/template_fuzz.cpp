// Fuzzes the template language end to end: the input is split into a template and a JSON
// item; the template is compiled (a CompileError is a normal outcome) and rendered (a
// runtime error is a normal outcome). Any crash, hang, sanitizer report or other exception
// is a bug. The data location and the query template get the same input. The item is parsed
// as the poller parses answers: integers beyond 64 bits keep their digits (a binary node).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/template/template.h"
#include "tests/common/template/json_with_big_ints.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::size_t split = input.find('\x01');
  std::string_view source = input.substr(0, split);
  nlohmann::ordered_json item;
  if (split != std::string_view::npos) {
    item = webhook::tmpl::testing::parse_keeping_big_ints(input.substr(split + 1), false);
  } else {
    item = webhook::tmpl::testing::parse_keeping_big_ints(
        R"({"node":{"connector":{"name":"ImportFile"},"messages":[{"message":"done"}],)"
        R"("n":5,"f":2.5,"s":"it's","l":[3,1,"a",null,true,{"k":[1.5]}],"u":"é中",)"
        R"("big":123456789012345678901234567890,"u64":18446744073709551615}})");
  }
  static const webhook::ManualClock kClock;
  try {
    auto t = webhook::tmpl::Template::compile(source);
    webhook::tmpl::RenderResult r = t.render(item, kClock);
    if (!r.ok() && r.error.empty()) __builtin_trap();
  } catch (const webhook::tmpl::CompileError& e) {
    if (e.reason().empty()) __builtin_trap();
  }
  try {
    auto q = webhook::tmpl::QueryTemplate::compile(source);
    q.render(1'700'000'000'000, kClock);
  } catch (const webhook::tmpl::CompileError&) {
  }
  try {
    auto location = webhook::tmpl::DataLocation::compile(source);
    location.select(item);
  } catch (const webhook::tmpl::CompileError&) {
  }
  return 0;
}
