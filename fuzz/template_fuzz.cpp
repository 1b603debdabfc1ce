// Fuzzes the template language end to end: the input is split into a template and a JSON
// item; the template is compiled (a CompileError is a normal outcome) and rendered (a
// runtime error is a normal outcome). Any crash, hang, sanitizer report or other exception
// is a bug. The data location and the query template get the same input.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/template/template.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::size_t split = input.find('\x01');
  std::string_view source = input.substr(0, split);
  nlohmann::ordered_json item;
  if (split != std::string_view::npos) {
    item = nlohmann::ordered_json::parse(input.substr(split + 1), nullptr, false);
  } else {
    item = nlohmann::ordered_json::parse(
        R"({"node":{"connector":{"name":"ImportFile"},"messages":[{"message":"done"}],)"
        R"("n":5,"f":2.5,"s":"it's","l":[3,1,"a",null,true,{"k":[1.5]}],"u":"é中"}})");
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
