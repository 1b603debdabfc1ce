#include "tests/support/fake_records.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <set>

namespace webhook::testing {
namespace {

using Json = nlohmann::ordered_json;

[[noreturn]] void invalid(const std::string& message) {
  throw FakeQueryError(message, /*validation=*/true, "GRAPHQL_VALIDATION_FAILED");
}

std::string type_name(std::string_view collection) {
  if (collection == "works") return "Work";
  if (collection == "users") return "User";
  return "ThreatActorGroup";
}

// A time as epoch ms: a number, a string of digits, or ISO-8601 (2023-11-14T22:13:20.123Z).
std::optional<int64_t> to_time(const Json& v) {
  if (v.is_number_integer()) return v.get<int64_t>();
  if (!v.is_string()) return std::nullopt;
  const std::string& s = v.get_ref<const std::string&>();
  if (!s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(c); })) {
    return std::stoll(s);
  }
  std::tm tm{};
  int ms = 0;
  char* end = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (end == nullptr) return std::nullopt;
  if (*end == '.') {
    ++end;
    int digits = 0;
    while (std::isdigit(static_cast<unsigned char>(*end))) {
      if (digits < 3) ms = ms * 10 + (*end - '0');
      ++digits;
      ++end;
    }
    for (; digits < 3; ++digits) ms *= 10;
  }
  if (*end != 'Z' && *end != '\0' && std::string_view(end) != "+00:00") return std::nullopt;
  return static_cast<int64_t>(timegm(&tm)) * 1000 + ms;
}

// -1, 0, 1; nullopt when the two cannot be ordered.
std::optional<int> compare(const Json& field, const Json& value) {
  auto a = to_time(field);
  auto b = to_time(value);
  if (a && b) return *a < *b ? -1 : (*a > *b ? 1 : 0);
  if (field.is_number() && value.is_number()) {
    double x = field.get<double>(), y = value.get<double>();
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  if (field.is_number() && value.is_string()) {
    try {
      double x = field.get<double>(), y = std::stod(value.get<std::string>());
      return x < y ? -1 : (x > y ? 1 : 0);
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  if (field.is_string() && value.is_string()) {
    int c = field.get<std::string>().compare(value.get<std::string>());
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  if (field.is_boolean() && (value.is_boolean() || value.is_string())) {
    std::string f = field.get<bool>() ? "true" : "false";
    std::string v =
        value.is_boolean() ? (value.get<bool>() ? "true" : "false") : value.get<std::string>();
    return f == v ? 0 : 1;
  }
  return std::nullopt;
}

// FilterOperator of the 5.12+ schema; the 5.x list syntax took any string.
const std::set<std::string> kFilterOperators = {
    "eq",          "not_eq",          "lt",       "lte",          "gt",        "gte",
    "match",       "wildcard",        "contains", "not_contains", "ends_with", "not_ends_with",
    "starts_with", "not_starts_with", "script",   "nil",          "not_nil",   "search",
    "within"};
const std::set<std::string> kImplemented = {"eq",       "not_eq", "lt",    "lte",
                                            "gt",       "gte",    "match", "wildcard",
                                            "contains", "search", "nil",   "not_nil"};

bool match_one(const Json& field, const std::string& op, const Json& value) {
  if (kImplemented.count(op) == 0) {
    throw FakeQueryError("Unsupported filter operator: " + op, false, "UNSUPPORTED_ERROR");
  }
  if (field.is_array()) {  // multi-valued fields (aliases): any element
    return std::any_of(field.begin(), field.end(),
                       [&](const Json& f) { return match_one(f, op, value); });
  }
  if (op == "match" || op == "wildcard" || op == "contains" || op == "search") {
    if (!field.is_string() || !value.is_string()) return false;
    std::string f = field.get<std::string>(), v = value.get<std::string>();
    std::transform(f.begin(), f.end(), f.begin(), ::tolower);
    std::transform(v.begin(), v.end(), v.begin(), ::tolower);
    return f.find(v) != std::string::npos;
  }
  auto c = compare(field, value);
  if (op == "not_eq") return !c || *c != 0;
  if (!c) return false;
  if (op == "eq") return *c == 0;
  if (op == "gt") return *c > 0;
  if (op == "gte") return *c >= 0;
  if (op == "lt") return *c < 0;
  if (op == "lte") return *c <= 0;
  throw FakeQueryError("Unsupported filter operator: " + op, false, "UNSUPPORTED_ERROR");
}

bool match_filter(const Json& node, const Json& filter, bool legacy) {
  static const std::set<std::string> kLegacyKeys = {"key", "values", "operator", "filterMode"};
  static const std::set<std::string> kKeys = {"key", "values", "operator", "mode"};
  if (!filter.is_object()) invalid("Expected a filter object, got " + filter.dump());
  for (const auto& [k, v] : filter.items()) {
    if (!(legacy ? kLegacyKeys : kKeys).count(k)) {
      invalid("Field \"" + k + "\" is not defined by type \"" +
              (legacy ? "WorksFiltering" : "Filter") + "\".");
    }
  }
  if (!filter.contains("key"))
    invalid("Field \"key\" of required type \"[String!]!\" was not provided.");
  if (!legacy && !filter.contains("values")) {
    invalid("Field \"values\" of required type \"[Any!]!\" was not provided.");
  }
  Json keys = filter["key"].is_array() ? filter["key"] : Json::array({filter["key"]});
  std::string op = filter.value("operator", "eq");
  Json values = filter.contains("values") ? filter["values"] : Json::array();
  if (!values.is_array()) values = Json::array({values});
  if (!legacy && kFilterOperators.count(op) == 0) {
    invalid("Value \"" + op + "\" does not exist in \"FilterOperator\" enum.");
  }
  if (kImplemented.count(op) == 0) {
    throw FakeQueryError("Unsupported filter operator: " + op, false, "UNSUPPORTED_ERROR");
  }
  std::string mode = filter.value(legacy ? "filterMode" : "mode", "or");
  for (const auto& key : keys) {
    if (!key.is_string()) invalid("Filter keys are strings");
    Json field = node.contains(key.get<std::string>()) ? node[key.get<std::string>()] : Json();
    bool matched;
    if (op == "nil") {
      matched = field.is_null() || (field.is_string() && field.get<std::string>().empty());
    } else if (op == "not_nil") {
      matched = !(field.is_null() || (field.is_string() && field.get<std::string>().empty()));
    } else if (values.empty()) {
      matched = true;
    } else if (mode == "and") {
      matched = std::all_of(values.begin(), values.end(),
                            [&](const Json& v) { return match_one(field, op, v); });
    } else {
      matched = std::any_of(values.begin(), values.end(),
                            [&](const Json& v) { return match_one(field, op, v); });
    }
    if (matched) return true;  // several keys: any of them
  }
  return false;
}

bool match_group(const Json& node, const Json& group) {
  if (!group.is_object()) invalid("Expected type \"FilterGroup\", found " + group.dump() + ".");
  for (const char* required : {"mode", "filters", "filterGroups"}) {
    if (!group.contains(required)) {
      invalid(std::string("Field \"FilterGroup.") + required +
              "\" of required type was not provided.");
    }
  }
  for (const auto& [k, v] : group.items()) {
    if (k != "mode" && k != "filters" && k != "filterGroups") {
      invalid("Field \"" + k + "\" is not defined by type \"FilterGroup\".");
    }
  }
  std::string mode = group["mode"].is_string() ? group["mode"].get<std::string>() : "";
  if (mode != "and" && mode != "or")
    invalid("Value \"" + mode + "\" does not exist in \"FilterMode\" enum.");
  std::vector<bool> results;
  for (const auto& f : group["filters"]) results.push_back(match_filter(node, f, false));
  for (const auto& g : group["filterGroups"]) results.push_back(match_group(node, g));
  if (results.empty()) return true;
  return mode == "and" ? std::all_of(results.begin(), results.end(), [](bool b) { return b; })
                       : std::any_of(results.begin(), results.end(), [](bool b) { return b; });
}

bool contains_text(const Json& node, const std::string& needle) {
  if (node.is_string()) {
    std::string s = node.get<std::string>();
    std::transform(s.begin(), s.end(), s.begin(), ::tolower);
    return s.find(needle) != std::string::npos;
  }
  if (node.is_structured()) {
    for (const auto& v : node) {
      if (contains_text(v, needle)) return true;
    }
  }
  return false;
}

Json project(const Json& value, const std::vector<GraphqlField>& selections,
             const std::string& type) {
  if (selections.empty() || value.is_null()) return value;
  if (value.is_array()) {
    Json out = Json::array();
    for (const auto& v : value) out.push_back(project(v, selections, type));
    return out;
  }
  if (!value.is_object()) return value;
  Json out = Json::object();
  for (const auto& s : selections) {
    if (s.name == "__typename") {
      out[s.alias] = value.value("__typename", type);
    } else if (value.contains(s.name)) {
      out[s.alias] = project(value[s.name], s.selections, type);
    } else {
      out[s.alias] = nullptr;
    }
  }
  return out;
}

}  // namespace

FakeRecords::FakeRecords(FakeRecordsOptions options, const Clock& clock)
    : options_(std::move(options)), clock_(clock) {}

int64_t FakeRecords::add(std::string_view collection, Json node,
                         std::optional<int64_t> visible_at) {
  std::lock_guard lock(mutex_);
  int64_t seq = next_seq_++;
  records_.emplace_back(std::string(collection),
                        Record{seq, visible_at.value_or(clock_.now_ms()), std::move(node)});
  return seq;
}

std::size_t FakeRecords::size(std::string_view collection) const {
  std::lock_guard lock(mutex_);
  return std::count_if(records_.begin(), records_.end(),
                       [&](const auto& r) { return r.first == collection; });
}

Json FakeRecords::evaluate(const GraphqlOperation& operation) const {
  if (operation.kind != "query") {
    invalid("The fake OpenCTI answers queries only, not " + operation.kind + "s.");
  }
  Json data = Json::object();
  for (const auto& field : operation.selections) {
    if (field.name == "about") {
      data[field.alias] = project(Json{{"version", options_.version}}, field.selections, "AppInfo");
    } else if (field.name == "works" || field.name == "users" || field.name == "threatActors") {
      data[field.alias] = connection(field, field.name);
    } else if (field.name == "__typename") {
      data[field.alias] = "Query";
    } else {
      invalid("Cannot query field \"" + field.name + "\" on type \"Query\".");
    }
  }
  return data;
}

Json FakeRecords::connection(const GraphqlField& field, std::string_view collection) const {
  std::set<std::string> allowed = {"first", "after", "orderBy", "orderMode", "filters", "search"};
  if (collection != "works") allowed.insert("toStix");
  if (options_.legacy_filters) allowed.insert("filterMode");
  for (const auto& [name, value] : field.arguments.items()) {
    if (!allowed.count(name)) {
      invalid("Unknown argument \"" + name + "\" on field \"Query." + std::string(collection) +
              "\".");
    }
  }
  const Json& args = field.arguments;
  Json filters = args.contains("filters") ? args["filters"] : Json();
  bool legacy = filters.is_array();
  if (legacy && !options_.legacy_filters) {
    invalid("Expected value of type \"FilterGroup\", found " + filters.dump() + ".");
  }
  if (filters.is_object() && !options_.filter_groups) {
    invalid("Expected value of type \"[" + type_name(collection) + "sFiltering]\", found " +
            filters.dump() + ".");
  }
  if (!filters.is_null() && !filters.is_array() && !filters.is_object()) {
    invalid("Expected type \"FilterGroup\", found " + filters.dump() + ".");
  }
  std::string filter_mode = args.value("filterMode", "and");
  std::string search;
  if (args.contains("search") && args["search"].is_string()) search = args["search"];
  std::transform(search.begin(), search.end(), search.begin(), ::tolower);
  int64_t first = options_.default_page_size;
  if (args.contains("first") && !args["first"].is_null()) {
    if (!args["first"].is_number_integer()) invalid("Int cannot represent non-integer value");
    first = std::clamp<int64_t>(args["first"].get<int64_t>(), 0, options_.max_page_size);
  }
  std::string order_by = args.value("orderBy", "");
  bool descending =
      args.contains("orderMode") ? args["orderMode"] == "desc" : collection == "works";

  // Filters are checked as the platform checks them, whether or not any record is there.
  if (legacy) {
    for (const auto& f : filters) match_filter(Json::object(), f, true);
  } else if (filters.is_object()) {
    match_group(Json::object(), filters);
  }
  std::vector<const Record*> matched;
  std::unique_lock lock(mutex_);
  int64_t now = clock_.now_ms();
  for (const auto& [c, record] : records_) {
    if (c != collection || record.visible_at > now) continue;
    bool ok = true;
    if (legacy) {
      std::vector<bool> results;
      for (const auto& f : filters) results.push_back(match_filter(record.node, f, true));
      if (!results.empty()) {
        ok = filter_mode == "or"
                 ? std::any_of(results.begin(), results.end(), [](bool b) { return b; })
                 : std::all_of(results.begin(), results.end(), [](bool b) { return b; });
      }
    } else if (filters.is_object()) {
      ok = match_group(record.node, filters);
    }
    if (ok && !search.empty()) ok = contains_text(record.node, search);
    if (ok) matched.push_back(&record);
  }
  std::stable_sort(matched.begin(), matched.end(), [&](const Record* a, const Record* b) {
    if (!order_by.empty()) {
      Json fa = a->node.value(order_by, Json()), fb = b->node.value(order_by, Json());
      auto c = compare(fa, fb);
      if (c && *c != 0) return descending ? *c > 0 : *c < 0;
    }
    return descending ? a->seq > b->seq : a->seq < b->seq;
  });
  std::size_t start = 0;
  if (args.contains("after") && args["after"].is_string()) {
    std::string after = args["after"];
    if (after.rfind("seq:", 0) != 0) {
      throw FakeQueryError("Invalid cursor " + after, false, "UNSUPPORTED_ERROR");
    }
    int64_t seq = std::stoll(after.substr(4));
    auto it = std::find_if(matched.begin(), matched.end(),
                           [&](const Record* r) { return r->seq == seq; });
    start =
        it == matched.end() ? matched.size() : static_cast<std::size_t>(it - matched.begin()) + 1;
  }
  std::size_t end = std::min(matched.size(), start + static_cast<std::size_t>(first));
  std::string type = type_name(collection);

  Json out = Json::object();
  for (const auto& sel : field.selections) {
    if (sel.name == "edges") {
      Json edges = Json::array();
      for (std::size_t i = start; i < end; ++i) {
        Json edge = Json::object();
        for (const auto& s : sel.selections) {
          if (s.name == "node") {
            edge[s.alias] = project(matched[i]->node, s.selections, type);
          } else if (s.name == "cursor") {
            edge[s.alias] = "seq:" + std::to_string(matched[i]->seq);
          } else if (s.name == "__typename") {
            edge[s.alias] = type + "Edge";
          } else {
            invalid("Cannot query field \"" + s.name + "\" on type \"" + type + "Edge\".");
          }
        }
        edges.push_back(std::move(edge));
      }
      out[sel.alias] = std::move(edges);
    } else if (sel.name == "pageInfo") {
      Json info = {{"startCursor", start < end ? "seq:" + std::to_string(matched[start]->seq) : ""},
                   {"endCursor", start < end ? "seq:" + std::to_string(matched[end - 1]->seq) : ""},
                   {"hasNextPage", end < matched.size()},
                   {"hasPreviousPage", start > 0},
                   {"globalCount", static_cast<int64_t>(matched.size())}};
      out[sel.alias] = project(info, sel.selections, "PageInfo");
    } else if (sel.name == "__typename") {
      out[sel.alias] = type + "Connection";
    } else {
      invalid("Cannot query field \"" + sel.name + "\" on type \"" + type + "Connection\".");
    }
  }
  return out;
}

std::string FakeRecords::iso_time(int64_t ms) {
  std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[40];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buffer, static_cast<int>(ms % 1000));
  return out;
}

Json FakeRecords::work(std::string_view id, std::string_view connector_name,
                       std::vector<std::string> messages, int64_t received_ms,
                       int64_t completed_ms) {
  Json msgs = Json::array();
  for (auto& m : messages)
    msgs.push_back(Json{{"timestamp", iso_time(completed_ms)}, {"message", m}});
  return Json{
      {"id", id},
      {"name", "Work " + std::string(id)},
      {"connector", {{"id", "connector-" + std::string(connector_name)}, {"name", connector_name}}},
      {"timestamp", iso_time(received_ms)},
      {"status", "complete"},
      {"event_source_id", "event-" + std::string(id)},
      {"received_time", iso_time(received_ms)},
      {"processed_time", iso_time(completed_ms)},
      {"completed_time", iso_time(completed_ms)},
      {"completed_number", static_cast<int64_t>(messages.size())},
      {"messages", std::move(msgs)},
      {"errors", Json::array()}};
}

Json FakeRecords::user(std::string_view id, std::string_view email, int64_t created_ms) {
  return Json{{"id", id},
              {"entity_type", "User"},
              {"user_email", email},
              {"name", std::string(email.substr(0, email.find('@')))},
              {"created_at", iso_time(created_ms)},
              {"updated_at", iso_time(created_ms)}};
}

Json FakeRecords::threat_actor(std::string_view id, std::string_view name, int confidence,
                               int64_t updated_ms) {
  return Json{{"id", id},
              {"entity_type", "Threat-Actor-Group"},
              {"__typename", "ThreatActorGroup"},
              {"name", name},
              {"aliases", Json::array()},
              {"confidence", confidence},
              {"created_at", iso_time(updated_ms)},
              {"updated_at", iso_time(updated_ms)}};
}

}  // namespace webhook::testing
