// webhookctl render and extract: the operator's playground for templates and data
// locations, and the batch interface the differential tests drive.
#include <iostream>
#include <iterator>
#include <string>

#include "common/clock.h"
#include "common/json_reader.h"
#include "common/json_writer.h"
#include "common/template/template.h"
#include "ctl/arguments.h"
#include "ctl/commands.h"

namespace webhook::ctl {
namespace {

using Json = nlohmann::ordered_json;

int64_t parse_ms(const std::string& text) {
  try {
    std::size_t used = 0;
    long long v = std::stoll(text, &used);
    if (used != text.size()) throw std::invalid_argument(text);
    return v;
  } catch (const std::exception&) {
    throw UsageError("--last-poll-time must be an integer (epoch milliseconds), not '" + text +
                     "'");
  }
}

// One batch line in, one JSON line out.
Json render_line(const std::string& line, const Clock& clock) {
  JsonReadResult read = read_json(line);
  if (!read.ok()) return Json{{"error", "invalid input line: " + read.error}, {"kind", "input"}};
  Json in = std::move(read.value);
  if (!in.is_object() || !in.contains("template") || !in["template"].is_string()) {
    return Json{{"error", "each line must be an object with a string \"template\""},
                {"kind", "input"}};
  }
  const std::string& source = in["template"].get_ref<const std::string&>();
  bool query = in.value("query", false);
  tmpl::RenderResult result;
  try {
    if (query) {
      int64_t cursor = in.contains("last_poll_time") && in["last_poll_time"].is_number_integer()
                           ? in["last_poll_time"].get<int64_t>()
                           : 0;
      tmpl::QueryTemplate::compile(source);
      result = tmpl::QueryTemplate::compile(source).render(cursor, clock);
    } else {
      Json item = in.contains("item") ? in["item"] : Json();
      result = tmpl::Template::compile(source).render(item, clock);
    }
  } catch (const tmpl::CompileError& e) {
    return Json{{"error", e.reason()}, {"kind", "compile"}};
  }
  if (!result.ok()) return Json{{"error", result.error}, {"kind", "runtime"}};
  return Json{{"text", result.text}};
}

int render_batch(const Clock& clock) {
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.empty()) continue;
    std::cout << render_line(line, clock).dump(-1, ' ', false, Json::error_handler_t::replace)
              << "\n";
  }
  std::cout.flush();
  return 0;
}

}  // namespace

int render_command(const Args& args) {
  Arguments a(args, {"template", "item", "last-poll-time"}, {"batch", "query"});
  SystemClock clock;
  if (a.flag("batch")) return render_batch(clock);
  std::optional<std::string> source = a.value("template");
  if (!source) throw UsageError("--template TEXT is required (or --batch)");
  try {
    tmpl::RenderResult result;
    if (a.flag("query") || a.value("last-poll-time")) {
      auto ms = a.value("last-poll-time");
      result = tmpl::QueryTemplate::compile(*source).render(ms ? parse_ms(*ms) : clock.now_ms());
    } else {
      Json item;
      // Read as the poller reads OpenCTI's answers, so big ints and lone surrogates render
      // here as they would in a job.
      if (auto text = a.value("item")) {
        JsonReadResult read = read_json(*text);
        if (!read.ok()) throw UsageError("--item is not valid JSON: " + read.error);
        item = std::move(read.value);
      }
      result = tmpl::Template::compile(*source).render(item, clock);
    }
    if (!result.ok()) {
      std::cerr << result.error << "\n";
      return 1;
    }
    std::cout << result.text;
    std::cout.flush();
    return 0;
  } catch (const tmpl::CompileError& e) {
    std::cerr << e.what() << "\n";
    return 2;
  }
}

int extract_command(const Args& args) {
  Arguments a(args, {"location"}, {});
  std::optional<std::string> location = a.value("location");
  if (!location) throw UsageError("--location LOC is required");
  tmpl::DataLocation compiled;
  try {
    compiled = tmpl::DataLocation::compile(*location);
  } catch (const tmpl::CompileError& e) {
    std::cerr << e.what() << "\n";
    return 2;
  }
  std::string text(std::istreambuf_iterator<char>(std::cin), {});
  JsonReadResult read = read_json(text);
  if (!read.ok()) {
    std::cerr << "the input is not valid JSON: " << read.error << "\n";
    return 1;
  }
  Json document = std::move(read.value);
  const Json* selected = compiled.select(document);
  std::cout << (selected ? write_json(*selected) : "null") << "\n";
  return 0;
}

}  // namespace webhook::ctl
