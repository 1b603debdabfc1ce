#include "common/config.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

#include <yaml-cpp/yaml.h>

extern char** environ;

namespace webhook {
namespace {

using Json = nlohmann::ordered_json;

std::string trim(std::string_view s) {
  auto begin = s.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return {};
  auto end = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(begin, end - begin + 1));
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string shown(const SettingSpec& spec, std::string_view text) {
  if (spec.type == SettingType::kSecret) return "***";
  std::string out = "'";
  std::string cut = text.size() > 80 ? std::string(text.substr(0, 77)) + "..." : std::string(text);
  // One problem, one line: line breaks show escaped.
  for (char c : cut) {
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::string number_text(double v) {
  if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<int64_t>(v));
  std::string s = std::to_string(v);
  s.erase(s.find_last_not_of('0') + 1);
  return s;
}

std::string range_text(const SettingSpec& spec) {
  return "from " + number_text(spec.min) + " to " + number_text(spec.max);
}

// Parses `text` for `spec`. On failure returns nullopt and sets `expected`.
std::optional<Json> parse_value(const SettingSpec& spec, std::string_view text,
                                std::string& expected) {
  // A string goes into a request line or a header (OPENCTI_TOKEN in Authorization,
  // OPENCTI_CUSTOM_HEADERS, URLs): a line break in it would add header lines there.
  if ((spec.type == SettingType::kString || spec.type == SettingType::kSecret) &&
      text.find_first_of("\r\n") != std::string_view::npos) {
    expected =
        "a single line (it holds a line break, CR or LF, which would add lines to "
        "the requests it goes into)";
    return std::nullopt;
  }
  switch (spec.type) {
    case SettingType::kString:
    case SettingType::kTemplate:
      return Json(std::string(text));
    case SettingType::kSecret:
      if (spec.env == "WEBHOOK_SECRET" && text.rfind("whsec_", 0) != 0) {
        expected = "a Standard Webhooks secret: whsec_ followed by base64";
        return std::nullopt;
      }
      return Json(std::string(text));
    case SettingType::kInteger: {
      int64_t v = 0;
      auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec != std::errc() || ptr != text.data() + text.size() || v < spec.min || v > spec.max) {
        expected = "an integer " + range_text(spec);
        return std::nullopt;
      }
      return Json(v);
    }
    case SettingType::kSeconds: {
      double v = 0;
      auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec != std::errc() || ptr != text.data() + text.size() || !std::isfinite(v) ||
          v < spec.min || v > spec.max) {
        expected = "a number of seconds " + range_text(spec);
        return std::nullopt;
      }
      return Json(static_cast<int64_t>(std::llround(v * 1000.0)));
    }
    case SettingType::kBoolean: {
      auto b = parse_boolean(text);
      if (!b) {
        expected = "a boolean: true/false/yes/no/1/0";
        return std::nullopt;
      }
      return Json(*b);
    }
    case SettingType::kEnum: {
      std::string want = lower(text);
      std::string_view choices = spec.choices;
      while (!choices.empty()) {
        auto bar = choices.find('|');
        auto choice = choices.substr(0, bar);
        if (lower(choice) == want) return Json(std::string(choice));
        choices = bar == std::string_view::npos ? std::string_view{} : choices.substr(bar + 1);
      }
      std::string list(spec.choices);
      std::replace(list.begin(), list.end(), '|', ',');
      expected = "one of " + list;
      return std::nullopt;
    }
    case SettingType::kJsonObject: {
      Json v = Json::parse(text, nullptr, /*allow_exceptions=*/false);
      if (!v.is_object()) {
        expected = "a JSON object such as {\"X-Source\": \"opencti\"}";
        return std::nullopt;
      }
      for (const auto& [key, value] : v.items()) {
        if (!value.is_string()) {
          expected = "a JSON object whose values are strings (\"" + key + "\" is not)";
          return std::nullopt;
        }
      }
      return v;
    }
    case SettingType::kUuid: {
      static constexpr std::string_view kShape = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
      bool ok = text.size() == kShape.size();
      std::string lowered;
      for (std::size_t i = 0; ok && i < text.size(); ++i) {
        char c = static_cast<char>(std::tolower(static_cast<unsigned char>(text[i])));
        ok = kShape[i] == '-' ? c == '-' : std::isxdigit(static_cast<unsigned char>(c)) != 0;
        lowered += c;
      }
      if (!ok) {
        expected = "a UUID such as 8215614c-7139-422e-b825-b20fd2a13a23 (make one with `uuidgen`)";
        return std::nullopt;
      }
      return Json(lowered);
    }
    case SettingType::kStatusList: {
      Json list = Json::array();
      std::string_view rest = text;
      while (!rest.empty()) {
        auto comma = rest.find(',');
        std::string item = trim(rest.substr(0, comma));
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
        if (item.empty()) continue;
        int code = 0;
        auto [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), code);
        if (ec != std::errc() || ptr != item.data() + item.size() || code < 100 || code > 599) {
          expected = "comma-separated HTTP status codes (100-599) such as 400,404,410";
          return std::nullopt;
        }
        list.push_back(code);
      }
      return list;
    }
  }
  return std::nullopt;
}

// What a config.yml node holds for one setting: nothing, the text the environment would
// hold, or (wrong_shape) what it is instead of the shape the setting takes. yaml-cpp's own
// conversions throw on a node of another shape, so every node is looked at before it is
// converted.
struct YamlValue {
  std::optional<std::string> text;
  std::string wrong_shape;  // "a list", "a list inside the list (item 1)", ...
};

std::string node_kind(const YAML::Node& node) {
  if (!node || node.IsNull()) return "nothing";
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return "a mapping";
  return "a single value";
}

// The shape a setting takes in config.yml, for "expected ..." messages.
std::string yaml_shape(const SettingSpec& spec) {
  switch (spec.type) {
    case SettingType::kJsonObject:
      return "a mapping of names to single values (or a JSON object as text)";
    case SettingType::kStatusList:
      return "a list of HTTP status codes such as [400, 404, 410] (or the text 400,404,410)";
    default:
      return "a single value";
  }
}

YamlValue yaml_text(const YAML::Node& node, const SettingSpec& spec) {
  if (!node || node.IsNull()) return {};
  if (node.IsScalar()) return {node.Scalar(), {}};
  if (spec.type == SettingType::kJsonObject && node.IsMap()) {
    Json obj = Json::object();
    for (const auto& kv : node) {
      if (!kv.first.IsScalar()) return {std::nullopt, node_kind(kv.first) + " as a name"};
      if (!kv.second.IsScalar()) {
        return {std::nullopt, node_kind(kv.second) + " under '" + kv.first.Scalar() + "'"};
      }
      obj[kv.first.Scalar()] = kv.second.Scalar();
    }
    return {obj.dump(), {}};
  }
  if (spec.type == SettingType::kStatusList && node.IsSequence()) {
    std::string out;
    std::size_t index = 0;
    for (const auto& item : node) {
      ++index;
      if (!item.IsScalar()) {
        return {std::nullopt,
                node_kind(item) + " inside the list (item " + std::to_string(index) + ")"};
      }
      out += (out.empty() ? "" : ",") + item.Scalar();
    }
    return {out, {}};
  }
  return {std::nullopt, node_kind(node)};
}

// A mapping key as text; a key that is a list or a mapping shows as such.
std::string key_text(const YAML::Node& key) {
  return key.IsScalar() ? key.Scalar() : "<" + node_kind(key) + ">";
}

YAML::Node yaml_at(const YAML::Node& root, const SettingSpec& spec) {
  if (!root || !root.IsMap()) return YAML::Node();
  std::string path = yaml_path(spec);
  auto dot = path.find('.');
  YAML::Node section = root[path.substr(0, dot)];
  if (!section || !section.IsMap()) return YAML::Node();
  return section[path.substr(dot + 1)];
}

bool valid_feed_name(std::string_view name) {
  return !name.empty() && name.size() <= 64 &&
         std::all_of(name.begin(), name.end(), [](unsigned char c) {
           return std::isalnum(c) || c == '-' || c == '_' || c == '.';
         });
}

}  // namespace

std::vector<std::string> parse_allowed_hosts(std::string_view text) {
  std::vector<std::string> hosts;
  while (!text.empty()) {
    auto comma = text.find(',');
    std::string entry = lower(trim(text.substr(0, comma)));
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    if (!entry.empty()) hosts.push_back(std::move(entry));
  }
  return hosts;
}

Environment process_environment() {
  Environment env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    auto eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    env.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
  }
  return env;
}

std::optional<bool> parse_boolean(std::string_view text) {
  std::string v = lower(trim(text));
  if (v == "true" || v == "yes" || v == "1") return true;
  if (v == "false" || v == "no" || v == "0") return false;
  return std::nullopt;
}

static std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += (out.empty() ? "" : "\n") + l;
  return out;
}

ConfigError::ConfigError(std::vector<std::string> problems)
    : std::runtime_error(join_lines(problems)), problems_(std::move(problems)) {}

Config Config::load(unsigned programs, const Environment& env,
                    const std::optional<std::string>& yaml_file, bool require_file) {
  // Every node is checked for its shape before it is converted, so yaml-cpp should not
  // throw past the parse; should it still, the file is reported as a bad setting (exit 2)
  // instead of ending the program with an uncaught exception.
  try {
    return load_unguarded(programs, env, yaml_file, require_file);
  } catch (const YAML::Exception& e) {
    std::string where = yaml_file.value_or("config.yml");
    if (!e.mark.is_null()) {
      where += ": line " + std::to_string(e.mark.line + 1) + ", column " +
               std::to_string(e.mark.column + 1);
    }
    throw ConfigError({where + ": a value has an unexpected shape (" + e.msg + ")"});
  }
}

Config Config::load_unguarded(unsigned programs, const Environment& env,
                              const std::optional<std::string>& yaml_file, bool require_file) {
  Config config;
  std::vector<std::string> problems;

  YAML::Node root;
  std::string file_label = yaml_file.value_or("config.yml");
  if (yaml_file) {
    std::error_code ec;
    if (std::filesystem::exists(*yaml_file, ec)) {
      try {
        root = YAML::LoadFile(*yaml_file);
        if (root && !root.IsNull() && !root.IsMap()) {
          problems.push_back(file_label +
                             ": expected a mapping of sections (opencti:, "
                             "connector:, webhook:) at the top level");
          root = YAML::Node();
        }
      } catch (const YAML::Exception& e) {
        problems.push_back(file_label + ": line " + std::to_string(e.mark.line + 1) + ", column " +
                           std::to_string(e.mark.column + 1) + ": " + e.msg);
      }
    } else if (require_file) {
      problems.push_back(file_label + ": no such file (given with --config)");
    }
  }

  bool has_feeds = root && root.IsMap() && root["feeds"] && !root["feeds"].IsNull();

  for (const auto& spec : all_settings()) {
    bool used = (spec.programs & programs) != 0;
    std::optional<std::string> text;
    std::string source;
    if (auto it = env.find(spec.env); it != env.end() && !trim(it->second).empty()) {
      text = spec.type == SettingType::kTemplate || spec.type == SettingType::kSecret
                 ? it->second
                 : trim(it->second);
      source = "environment";
    } else if (auto y = yaml_text(yaml_at(root, spec), spec); !y.wrong_shape.empty()) {
      if (used) {
        problems.push_back(std::string(spec.env) + " (" + file_label + ", " + yaml_path(spec) +
                           "): expected " + yaml_shape(spec) + ", got " + y.wrong_shape);
      }
      continue;
    } else if (y.text && !trim(*y.text).empty()) {
      text = spec.type == SettingType::kTemplate ? *y.text : trim(*y.text);
      source = file_label;
    } else if (!spec.default_value.empty()) {
      text = std::string(spec.default_value);
      source = "default";
    }
    if (!text) {
      bool feed_supplies = has_feeds && spec.per_feed;
      // A stream feed needs no query: whether one is needed is decided per feed below.
      bool graphql_only = spec.env == "WEBHOOK_GRAPHQL_QUERY" ||
                          spec.env == "WEBHOOK_GRAPHQL_RETURNED_DATA_LOCATION";
      if (used && (spec.required_by & programs) != 0 && !feed_supplies && !graphql_only) {
        problems.push_back(std::string(spec.env) + ": required but not set (" + yaml_path(spec) +
                           " in config.yml): " + std::string(spec.description));
      }
      continue;
    }
    std::string expected;
    auto parsed = parse_value(spec, *text, expected);
    if (!parsed) {
      if (used) {
        problems.push_back(std::string(spec.env) + " (" + source + "): expected " + expected +
                           ", got " + shown(spec, *text));
      }
      continue;
    }
    config.values_[std::string(spec.env)] = Value{*text, source, std::move(*parsed)};
  }

  // The stream webhook connector's names for three settings, used when ours are not set.
  for (auto [alias, ours] : {std::pair{"METRICS_ENABLE", "CONNECTOR_EXPOSE_METRICS"},
                             std::pair{"METRICS_PORT", "CONNECTOR_METRICS_PORT"},
                             std::pair{"METRICS_ADDR", "WEBHOOK_METRICS_HOST"}}) {
    auto a = config.values_.find(alias);
    auto o = config.values_.find(ours);
    if (a != config.values_.end() && (o == config.values_.end() || o->second.source == "default")) {
      config.values_[ours] = a->second;
    }
  }
  // "ChangeMe", the stream connector's placeholder, counts as unset.
  if (auto it = config.values_.find("CONNECTOR_LIVE_STREAM_ID");
      it != config.values_.end() && it->second.text == "ChangeMe") {
    config.values_.erase(it);
  }
  if (const auto q = config.values_.find("WEBHOOK_GRAPHQL_QUERY");
      !has_feeds && (programs & kPoller) != 0 && q != config.values_.end() &&
      config.values_.count("CONNECTOR_LIVE_STREAM_ID") != 0) {
    problems.push_back(
        "CONNECTOR_LIVE_STREAM_ID and WEBHOOK_GRAPHQL_QUERY are both set: the default feed "
        "either reads a live stream or polls; unset one, or list both feeds under feeds: in "
        "config.yml (source: stream, stream_id: ...)");
  }

  for (const auto& [name, value] : env) {
    if (name.rfind("WEBHOOK_", 0) == 0 && find_setting(name) == nullptr) {
      config.warnings_.push_back(name + ": unknown setting, ignored");
    }
  }
  if (root && root.IsMap()) {
    for (const auto& section : root) {
      std::string key = key_text(section.first);
      if (key == "feeds") continue;
      if (key != "opencti" && key != "connector" && key != "webhook") {
        config.warnings_.push_back(file_label + ": unknown section '" + key + "', ignored");
        continue;
      }
      if (!section.second.IsMap()) continue;
      for (const auto& kv : section.second) {
        std::string env_name = upper(key + "_" + key_text(kv.first));
        if (find_setting(env_name) == nullptr && key == "webhook") {
          config.warnings_.push_back(file_label + ": unknown key '" + key + "." +
                                     key_text(kv.first) + "', ignored");
        }
      }
    }
  }

  // Feeds: the WEBHOOK_* values are the defaults of every feed; a `feeds:` entry overrides
  // them for that feed.
  if ((programs & (kPoller | kDispatcher)) != 0) {
    std::vector<std::pair<std::string, YAML::Node>> entries;
    if (has_feeds) {
      const YAML::Node& list = root["feeds"];
      if (!list.IsSequence() || list.size() == 0) {
        problems.push_back(file_label + ": feeds: expected a non-empty list of feeds");
      } else {
        std::set<std::string> names;
        for (std::size_t i = 0; i < list.size(); ++i) {
          std::string where = "feeds[" + std::to_string(i) + "]";
          if (!list[i].IsMap()) {
            problems.push_back(file_label + ": " + where + ": expected a mapping");
            continue;
          }
          std::string name = list[i]["name"] && list[i]["name"].IsScalar()
                                 ? list[i]["name"].Scalar()
                                 : std::string();
          if (!valid_feed_name(name)) {
            problems.push_back(file_label + ": " + where +
                               ".name: expected 1-64 letters, digits, '-', '_' or '.', got '" +
                               name + "'");
            continue;
          }
          if (!names.insert(name).second) {
            problems.push_back(file_label + ": " + where + ".name: feed '" + name +
                               "' is listed twice");
            continue;
          }
          for (const auto& kv : list[i]) {
            std::string key = key_text(kv.first);
            if (key == "name") continue;
            const SettingSpec* spec = find_setting("WEBHOOK_" + upper(key));
            if (spec == nullptr || !spec->per_feed) {
              problems.push_back(file_label + ": " + where + "." + key +
                                 ": not a per-feed setting");
            }
          }
          entries.emplace_back(name, list[i]);
        }
      }
    } else {
      entries.emplace_back("default", YAML::Node());
    }

    for (const auto& [name, node] : entries) {
      Environment feed_values;  // env name -> text, for this feed
      std::map<std::string, Json> parsed;
      std::set<std::string> explicit_names;  // given by the entry or a non-default source
      bool feed_ok = true;
      // Whether this feed reads a stream decides whether it needs a query.
      auto entry_text = [&](const char* key) -> std::string {
        if (!node || !node[key] || !node[key].IsScalar()) return {};
        return trim(node[key].Scalar());
      };
      auto shared_text = [&](const char* env_name) -> std::string {
        auto it = config.values_.find(env_name);
        return it == config.values_.end() ? std::string() : it->second.text;
      };
      std::string source_text = lower(entry_text("source"));
      if (source_text.empty()) source_text = lower(trim(shared_text("WEBHOOK_SOURCE")));
      if (!source_text.empty() && source_text != "graphql" && source_text != "stream") {
        problems.push_back("WEBHOOK_SOURCE" +
                           std::string(name == "default" ? "" : " (feed '" + name + "')") +
                           ": expected graphql or stream, got '" + source_text + "'");
        continue;
      }
      std::string stream_id = entry_text("stream_id");
      if (stream_id.empty()) stream_id = shared_text("WEBHOOK_STREAM_ID");
      if (stream_id.empty()) stream_id = shared_text("CONNECTOR_LIVE_STREAM_ID");
      bool own_query =
          !entry_text("graphql_query").empty() || !shared_text("WEBHOOK_GRAPHQL_QUERY").empty();
      bool is_stream = false;
      if (source_text == "stream") {
        is_stream = true;
      } else if (source_text.empty()) {
        is_stream = !entry_text("stream_id").empty() || (!own_query && !stream_id.empty());
      }
      for (const auto& spec : all_settings()) {
        if (!spec.per_feed) continue;
        std::string env_name(spec.env);
        std::optional<std::string> text;
        std::string source;
        if (node) {
          auto y = yaml_text(node[feed_key(spec)], spec);
          if (!y.wrong_shape.empty()) {
            problems.push_back(file_label + ": feed '" + name + "' " + feed_key(spec) + " (" +
                               env_name + "): expected " + yaml_shape(spec) + ", got " +
                               y.wrong_shape);
            feed_ok = false;
            continue;
          }
          if (y.text && !trim(*y.text).empty()) {
            text = spec.type == SettingType::kTemplate ? *y.text : trim(*y.text);
          }
        }
        if (text) {
          explicit_names.insert(env_name);
        } else if (auto it = config.values_.find(env_name);
                   it != config.values_.end() && it->second.source != "default") {
          explicit_names.insert(env_name);
        }
        if (text) {
          std::string expected;
          auto v = parse_value(spec, *text, expected);
          if (!v) {
            problems.push_back(file_label + ": feed '" + name + "' " + feed_key(spec) +
                               ": expected " + expected + ", got " + shown(spec, *text));
            feed_ok = false;
            continue;
          }
          parsed[env_name] = std::move(*v);
        } else if (auto it = config.values_.find(env_name); it != config.values_.end()) {
          parsed[env_name] = it->second.parsed;
        } else if (!spec.default_value.empty()) {
          feed_ok = false;  // the shared value was malformed, and is reported already
        } else if ((spec.required_by & programs) != 0 &&
                   (env_name == "WEBHOOK_GRAPHQL_QUERY" ||
                    env_name == "WEBHOOK_GRAPHQL_RETURNED_DATA_LOCATION")) {
          if (is_stream || (programs & kPoller) == 0) continue;
          if (has_feeds) {
            problems.push_back(file_label + ": feed '" + name + "' " + feed_key(spec) +
                               ": required but not set (nor " + std::string(spec.env) +
                               "), unless the feed reads a stream (source: stream)");
          } else {
            problems.push_back(std::string(spec.env) + ": required but not set (" +
                               yaml_path(spec) +
                               " in config.yml): " + std::string(spec.description) +
                               " (Or set CONNECTOR_LIVE_STREAM_ID for a stream feed.)");
          }
          feed_ok = false;
        } else if (has_feeds && (spec.required_by & programs) != 0) {
          problems.push_back(file_label + ": feed '" + name + "' " + feed_key(spec) +
                             ": required but not set (nor " + std::string(spec.env) + ")");
          feed_ok = false;
        }
      }
      if (!feed_ok) continue;
      auto str = [&](const char* n) {
        auto it = parsed.find(n);
        return it == parsed.end() ? std::string() : it->second.get<std::string>();
      };
      auto ms = [&](const char* n) {
        return std::chrono::milliseconds(parsed.at(n).get<int64_t>());
      };
      FeedConfig feed;
      feed.name = name;
      feed.graphql_query = str("WEBHOOK_GRAPHQL_QUERY");
      feed.data_location = str("WEBHOOK_GRAPHQL_RETURNED_DATA_LOCATION");
      feed.page_info_location = str("WEBHOOK_GRAPHQL_PAGE_INFO_LOCATION");
      feed.max_pages = parsed.at("WEBHOOK_GRAPHQL_MAX_PAGES").get<int64_t>();
      feed.max_poll_bytes = parsed.at("WEBHOOK_GRAPHQL_MAX_POLL_BYTES").get<int64_t>();
      feed.polling_interval = ms("WEBHOOK_GRAPHQL_POLLING_INTERVAL");
      feed.poll_overlap = ms("WEBHOOK_POLL_OVERLAP");
      feed.url = str("WEBHOOK_URL");
      feed.method = str("WEBHOOK_METHOD");
      if (auto it = parsed.find("WEBHOOK_HEADERS"); it != parsed.end()) feed.headers = it->second;
      feed.body = str("WEBHOOK_BODY");
      feed.ignore_duplicates = parsed.at("WEBHOOK_IGNORE_DUPLICATES").get<bool>();
      feed.order_key = str("WEBHOOK_ORDER_KEY");
      feed.order_dead_blocks = str("WEBHOOK_ORDER_ON_DEAD") == "block";
      feed.coalesce = parsed.at("WEBHOOK_COALESCE").get<bool>();
      // Both only say what an order key does: without one they do nothing, which the log
      // says (a schema of independent settings could not refuse it, so neither does this).
      if (feed.order_key.empty() && (feed.coalesce || feed.order_dead_blocks)) {
        config.warnings_.push_back(
            std::string(feed.coalesce ? "WEBHOOK_COALESCE" : "WEBHOOK_ORDER_ON_DEAD") +
            (name == "default" ? "" : " (feed '" + name + "')") +
            ": has no effect without WEBHOOK_ORDER_KEY");
      }
      feed.retry_interval = ms("WEBHOOK_UNSUCCESSFUL_RETRY_INTERVAL");
      feed.retry_attempts = parsed.at("WEBHOOK_UNSUCCESSFUL_RETRY_ATTEMPTS").get<int64_t>();
      feed.retry_backoff = str("WEBHOOK_RETRY_BACKOFF");
      feed.retry_max_interval = ms("WEBHOOK_RETRY_MAX_INTERVAL");
      if (auto it = parsed.find("WEBHOOK_PERMANENT_STATUSES"); it != parsed.end()) {
        feed.permanent_statuses = it->second.get<std::vector<int>>();
      }
      if (parsed.count("WEBHOOK_MAX_JOB_AGE")) feed.max_job_age = ms("WEBHOOK_MAX_JOB_AGE");
      if (parsed.count("WEBHOOK_SECRET")) feed.secret = str("WEBHOOK_SECRET");
      feed.allowed_hosts = parse_allowed_hosts(str("WEBHOOK_ALLOWED_HOSTS"));
      const std::string where = name == "default" ? "" : " (feed '" + name + "')";
      if (is_stream) {
        feed.source = FeedSource::kStream;
        feed.stream_id = stream_id;
        if (feed.stream_id.empty() && (programs & kPoller) != 0) {
          problems.push_back("CONNECTOR_LIVE_STREAM_ID" + where +
                             ": required by a stream feed but not set (stream_id: in the "
                             "feed's entry, or CONNECTOR_LIVE_STREAM_ID)");
          continue;
        }
        if (feed.stream_id.find_first_of("/?#% ") != std::string::npos) {
          problems.push_back("CONNECTOR_LIVE_STREAM_ID" + where +
                             ": expected a stream id (letters, digits, '-'), got '" +
                             feed.stream_id + "'");
          continue;
        }
      }
      for (const auto& type : parse_allowed_hosts(str("WEBHOOK_STREAM_EVENTS"))) {
        static const std::set<std::string> kTypes = {"create", "update", "delete", "merge"};
        if (kTypes.count(type) == 0) {
          problems.push_back("WEBHOOK_STREAM_EVENTS" + where +
                             ": expected event types among create,update,delete,merge, got '" +
                             type + "'");
          feed_ok = false;
        }
        feed.stream_events.push_back(type);
      }
      if (!feed_ok) continue;
      feed.filter = str("WEBHOOK_FILTER");
      const std::string auth_type = upper(trim(str("WEBHOOK_AUTH_TYPE")));
      if (auth_type != "NONE" && auth_type != "TOKEN") {
        problems.push_back("WEBHOOK_AUTH_TYPE" + where + ": expected NONE or TOKEN, got '" +
                           auth_type + "'");
        continue;
      }
      if (auth_type == "TOKEN") {
        feed.auth_header = trim(str("WEBHOOK_HEADER"));
        if (parsed.count("WEBHOOK_TOKEN")) feed.auth_token = str("WEBHOOK_TOKEN");
        if (feed.auth_header.empty() || !feed.auth_token) {
          problems.push_back("WEBHOOK_AUTH_TYPE" + where +
                             ": TOKEN needs WEBHOOK_HEADER (the header's name) and "
                             "WEBHOOK_TOKEN (its value)");
          continue;
        }
        bool token_name =
            std::all_of(feed.auth_header.begin(), feed.auth_header.end(),
                        [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '_'; });
        if (!token_name) {
          problems.push_back("WEBHOOK_HEADER" + where + ": expected a header name, got '" +
                             feed.auth_header + "'");
          continue;
        }
      }
      feed.method_set = explicit_names.count("WEBHOOK_METHOD") != 0;
      feed.headers_set = explicit_names.count("WEBHOOK_HEADERS") != 0;
      feed.body_set = explicit_names.count("WEBHOOK_BODY") != 0;
      if (feed.source == FeedSource::kStream) {
        // What the stream webhook connector sent: a POST of the data, as JSON.
        if (!feed.method_set) feed.method = "POST";
        if (!feed.headers_set) {
          feed.headers = Json{{"Content-Type", "application/json"}, {"Accept", "application/json"}};
        }
        feed.body_is_event_data = !feed.body_set;
      }
      // An entry with a scheme or a path would match no URL and make every job dead.
      bool hosts_ok = true;
      for (const auto& host : feed.allowed_hosts) {
        if (host.find_first_of("/@?# \t") != std::string::npos) {
          problems.push_back(std::string("WEBHOOK_ALLOWED_HOSTS") +
                             (name == "default" ? "" : " (feed '" + name + "')") +
                             ": expected host names or host:port, without scheme or path, "
                             "got '" +
                             host + "'");
          hosts_ok = false;
          break;
        }
      }
      if (!hosts_ok) continue;
      config.feeds_.push_back(std::move(feed));
    }
  }

  if (!problems.empty()) throw ConfigError(std::move(problems));
  return config;
}

const Config::Value* Config::find(std::string_view name, SettingType expected) const {
  const SettingSpec* spec = find_setting(name);
  if (spec == nullptr) throw std::logic_error("unknown setting " + std::string(name));
  bool stringish = expected == SettingType::kString &&
                   (spec->type == SettingType::kSecret || spec->type == SettingType::kTemplate ||
                    spec->type == SettingType::kEnum || spec->type == SettingType::kUuid);
  if (spec->type != expected && !stringish) {
    throw std::logic_error("setting " + std::string(name) + " read with the wrong type");
  }
  auto it = values_.find(name);
  return it == values_.end() ? nullptr : &it->second;
}

bool Config::is_set(std::string_view name) const {
  if (find_setting(name) == nullptr) throw std::logic_error("unknown setting " + std::string(name));
  return values_.find(name) != values_.end();
}

std::string Config::string(std::string_view name) const {
  const Value* v = find(name, SettingType::kString);
  return v ? v->parsed.get<std::string>() : std::string();
}

int64_t Config::integer(std::string_view name) const {
  const Value* v = find(name, SettingType::kInteger);
  if (!v) throw std::logic_error("setting " + std::string(name) + " has no value");
  return v->parsed.get<int64_t>();
}

std::chrono::milliseconds Config::duration(std::string_view name) const {
  auto d = optional_duration(name);
  if (!d) throw std::logic_error("setting " + std::string(name) + " has no value");
  return *d;
}

std::optional<std::chrono::milliseconds> Config::optional_duration(std::string_view name) const {
  const Value* v = find(name, SettingType::kSeconds);
  if (!v) return std::nullopt;
  return std::chrono::milliseconds(v->parsed.get<int64_t>());
}

bool Config::boolean(std::string_view name) const {
  auto b = optional_boolean(name);
  if (!b) throw std::logic_error("setting " + std::string(name) + " has no value");
  return *b;
}

std::optional<bool> Config::optional_boolean(std::string_view name) const {
  const Value* v = find(name, SettingType::kBoolean);
  if (!v) return std::nullopt;
  return v->parsed.get<bool>();
}

const nlohmann::ordered_json& Config::json(std::string_view name) const {
  static const nlohmann::ordered_json kEmpty = nlohmann::ordered_json::object();
  const Value* v = find(name, SettingType::kJsonObject);
  return v ? v->parsed : kEmpty;
}

std::vector<int> Config::status_list(std::string_view name) const {
  const Value* v = find(name, SettingType::kStatusList);
  return v ? v->parsed.get<std::vector<int>>() : std::vector<int>{};
}

std::vector<std::string> Config::describe() const {
  std::vector<std::string> lines;
  for (const auto& spec : all_settings()) {
    auto it = values_.find(spec.env);
    if (it == values_.end()) {
      lines.push_back(std::string(spec.env) + " (unset)");
      continue;
    }
    std::string value = spec.type == SettingType::kSecret ? "***" : it->second.text;
    lines.push_back(std::string(spec.env) + "=" + value + "  (" + it->second.source + ")");
  }
  return lines;
}

}  // namespace webhook
