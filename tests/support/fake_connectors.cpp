#include "tests/support/fake_connectors.h"

#include <algorithm>
#include <map>
#include <set>
#include <string_view>
#include <utility>

#include "tests/support/fake_records.h"

namespace webhook::testing {
namespace {

using Json = nlohmann::ordered_json;

constexpr int64_t kActiveWindowMs = 5 * 60 * 1000;

// The part of the platform's schema these mutations use (OpenCTI 5.5 to 6.8).
using Fields = std::vector<std::pair<std::string, std::string>>;  // name, type

const std::map<std::string, Fields>& input_types() {
  static const std::map<std::string, Fields> types = {
      {"RegisterConnectorInput",
       {{"id", "ID!"},
        {"name", "String!"},
        {"type", "ConnectorType!"},
        {"scope", "[String!]"},
        {"auto", "Boolean"},
        {"auto_update", "Boolean"},
        {"enrichment_resolution", "String"},
        {"only_contextual", "Boolean"},
        {"playbook_compatible", "Boolean"},
        {"listen_callback_uri", "String"}}},
      {"ConnectorInfoInput",
       {{"run_and_terminate", "Boolean!"},
        {"buffering", "Boolean!"},
        {"queue_threshold", "Float!"},
        {"queue_messages_size", "Float!"},
        {"next_run_datetime", "DateTime"},
        {"last_run_datetime", "DateTime"}}},
  };
  return types;
}

const std::map<std::string, Fields>& mutation_arguments() {
  static const std::map<std::string, Fields> arguments = {
      {"pingConnector",
       {{"id", "ID!"}, {"state", "String"}, {"connectorInfo", "ConnectorInfoInput"}}},
      {"registerConnector", {{"input", "RegisterConnectorInput"}}},
  };
  return arguments;
}

const std::set<std::string> kConnectorTypes = {"EXTERNAL_IMPORT",      "INTERNAL_IMPORT_FILE",
                                               "INTERNAL_ENRICHMENT",  "INTERNAL_ANALYSIS",
                                               "INTERNAL_EXPORT_FILE", "STREAM"};

[[noreturn]] void invalid(const std::string& message) {
  throw FakeQueryError(message, /*validation=*/true, "GRAPHQL_VALIDATION_FAILED");
}

[[noreturn]] void bad_input(const std::string& message) {
  throw FakeQueryError(message, /*validation=*/true, "BAD_USER_INPUT");
}

bool non_null(std::string_view type) { return !type.empty() && type.back() == '!'; }
std::string_view nullable(std::string_view type) {
  return non_null(type) ? type.substr(0, type.size() - 1) : type;
}
bool is_list(std::string_view type) { return !type.empty() && type.front() == '['; }
std::string_view item_type(std::string_view list) { return list.substr(1, list.size() - 2); }

// graphql-js's rule "a variable of this type may be used where that type is expected".
bool usable_as(std::string_view variable, std::string_view location) {
  if (non_null(location)) {
    return non_null(variable) && usable_as(nullable(variable), nullable(location));
  }
  if (non_null(variable)) return usable_as(nullable(variable), location);
  if (is_list(location))
    return is_list(variable) && usable_as(item_type(variable), item_type(location));
  return !is_list(variable) && variable == location;
}

// Input coercion of `value` to `type`; throws naming the path, as the platform does.
void coerce(std::string_view type, const Json& value, const std::string& path) {
  if (value.is_null()) {
    if (non_null(type)) {
      bad_input("Expected non-nullable type \"" + std::string(type) + "\" not to be null at \"" +
                path + "\".");
    }
    return;
  }
  std::string_view base = nullable(type);
  if (is_list(base)) {
    if (!value.is_array()) return coerce(item_type(base), value, path);  // a single item
    for (std::size_t i = 0; i < value.size(); ++i) {
      coerce(item_type(base), value[i], path + "[" + std::to_string(i) + "]");
    }
    return;
  }
  auto wrong = [&](const std::string& why) {
    bad_input("Invalid value " + value.dump() + " at \"" + path + "\": " + why);
  };
  if (base == "ID") {
    if (!value.is_string() && !value.is_number_integer()) wrong("ID cannot represent this value");
  } else if (base == "String" || base == "DateTime") {
    if (!value.is_string()) wrong(std::string(base) + " cannot represent a non string value");
  } else if (base == "Boolean") {
    if (!value.is_boolean()) wrong("Boolean cannot represent a non boolean value");
  } else if (base == "Float") {
    if (!value.is_number()) wrong("Float cannot represent non numeric value");
  } else if (base == "ConnectorType") {
    if (!value.is_string() || kConnectorTypes.count(value.get<std::string>()) == 0) {
      wrong("Value " + value.dump() + " does not exist in \"ConnectorType\" enum.");
    }
  } else if (auto input = input_types().find(std::string(base)); input != input_types().end()) {
    if (!value.is_object()) wrong("Expected type \"" + std::string(base) + "\" to be an object.");
    for (const auto& [key, _] : value.items()) {
      bool known = std::any_of(input->second.begin(), input->second.end(),
                               [&](const auto& f) { return f.first == key; });
      if (!known) {
        bad_input("Field \"" + key + "\" is not defined by type \"" + std::string(base) +
                  "\" at \"" + path + "\".");
      }
    }
    for (const auto& [name, field_type] : input->second) {
      if (!value.contains(name)) {
        if (non_null(field_type)) {
          bad_input("Field \"" + name + "\" of required type \"" + field_type +
                    "\" was not provided at \"" + path + "\".");
        }
        continue;
      }
      coerce(field_type, value[name], path + "." + name);
    }
  } else {
    wrong("unknown type " + std::string(base));
  }
}

// The argument checks of graphql-js, then input coercion.
void check_arguments(const GraphqlOperation& operation, const GraphqlField& field) {
  const Fields& declared = mutation_arguments().at(field.name);
  for (const auto& [name, _] : field.arguments.items()) {
    bool known = std::any_of(declared.begin(), declared.end(),
                             [&](const auto& a) { return a.first == name; });
    if (!known)
      invalid("Unknown argument \"" + name + "\" on field \"Mutation." + field.name + "\".");
  }
  for (const auto& [name, type] : declared) {
    auto variable = field.argument_variables.find(name);
    if (variable != field.argument_variables.end()) {
      auto declared_type = operation.variable_types.find(variable->second);
      if (declared_type == operation.variable_types.end()) {
        invalid("Variable \"$" + variable->second + "\" is not defined.");
      }
      if (!usable_as(declared_type->second, type)) {
        invalid("Variable \"$" + variable->second + "\" of type \"" + declared_type->second +
                "\" used in position expecting type \"" + type + "\".");
      }
    } else if (non_null(type) && !field.arguments.contains(name)) {
      invalid("Field \"" + field.name + "\" argument \"" + name + "\" of type \"" + type +
              "\" is required, but it was not provided.");
    }
    coerce(type, field.arguments.value(name, Json(nullptr)), name);
  }
}

// The Connector object, with the fields the query selects.
Json project(const FakeConnector& c, const std::vector<GraphqlField>& selections, int64_t now) {
  Json out = Json::object();
  for (const auto& f : selections) {
    Json v;
    if (f.name == "id" || f.name == "standard_id") {
      v = c.id;
    } else if (f.name == "name" || f.name == "title") {
      v = c.name;
    } else if (f.name == "entity_type" || f.name == "__typename") {
      v = "Connector";
    } else if (f.name == "active") {
      v = c.last_ping_at != 0 && now - c.last_ping_at < kActiveWindowMs;
    } else if (f.name == "auto") {
      v = c.auto_run;
    } else if (f.name == "only_contextual") {
      v = c.only_contextual;
    } else if (f.name == "connector_type") {
      v = c.type;
    } else if (f.name == "connector_scope") {
      v = c.scope;
    } else if (f.name == "connector_state") {
      v = c.state ? Json(*c.state) : Json(nullptr);
    } else if (f.name == "connector_state_reset" || f.name == "built_in" ||
               f.name == "is_managed") {
      v = false;
    } else if (f.name == "updated_at" || f.name == "refreshed_at") {
      v = FakeRecords::iso_time(std::max(c.registered_at, c.last_ping_at));
    } else if (f.name == "created_at") {
      v = FakeRecords::iso_time(c.registered_at);
    } else if (f.name == "config" || f.name == "connector_user" || f.name == "connector_info" ||
               f.name == "works" || f.name == "connector_user_id" ||
               f.name == "connector_state_timestamp" || f.name == "auto_update" ||
               f.name == "enrichment_resolution" || f.name == "playbook_compatible" ||
               f.name == "parent_types") {
      v = nullptr;  // kept by the platform; nothing a test of this project reads
    } else {
      invalid("Cannot query field \"" + f.name + "\" on type \"Connector\".");
    }
    out[f.alias] = std::move(v);
  }
  return out;
}

}  // namespace

Json FakeConnectors::evaluate(const GraphqlOperation& operation) {
  if (operation.kind != "mutation") invalid("Not a mutation.");
  for (const auto& field : operation.selections) {
    if (mutation_arguments().count(field.name) == 0) {
      invalid("Cannot query field \"" + field.name + "\" on type \"Mutation\".");
    }
    check_arguments(operation, field);
    project(FakeConnector{}, field.selections, 0);  // unknown fields refuse the whole request
  }
  Json data = Json::object();
  for (const auto& field : operation.selections) {
    data[field.alias] =
        field.name == "registerConnector" ? register_connector(field) : ping_connector(field);
  }
  return data;
}

Json FakeConnectors::register_connector(const GraphqlField& field) {
  const Json& input = field.arguments.value("input", Json(nullptr));
  if (input.is_null()) {
    throw FakeQueryError("Cannot read properties of null (reading 'id')", false,
                         "INTERNAL_SERVER_ERROR");
  }
  std::string name = input["name"].get<std::string>();
  bool blank = name.find_first_not_of(" \t\r\n") == std::string::npos;
  if (name.size() < 2 || blank) {
    bad_input(
        "Variable \"$input\" got invalid value at \"input.name\"; Expected type "
        "\"name_String_NotNull_minLength_2_format_notblank\". Must be at least 2 "
        "characters in length and not blank");
  }
  std::lock_guard lock(mutex_);
  int64_t now = clock_.now_ms();
  std::string id = input["id"].is_string() ? input["id"].get<std::string>() : input["id"].dump();
  auto it = std::find_if(connectors_.begin(), connectors_.end(),
                         [&](const FakeConnector& c) { return c.id == id; });
  if (it == connectors_.end()) {
    connectors_.push_back(FakeConnector{});
    it = connectors_.end() - 1;
    it->id = id;
  }
  it->name = name;
  it->type = input["type"].get<std::string>();
  it->scope = input.value("scope", Json::array());
  if (it->scope.is_null()) it->scope = Json::array();
  if (!it->scope.is_array()) it->scope = Json::array({it->scope});
  it->auto_run = input.value("auto", Json(false)).is_boolean() && input["auto"].get<bool>();
  it->only_contextual = input.value("only_contextual", Json(false)).is_boolean() &&
                        input["only_contextual"].get<bool>();
  it->registered_at = now;
  ++it->registrations;
  calls_.push_back({"registerConnector", field.arguments, now});
  return project(*it, field.selections, now);
}

Json FakeConnectors::ping_connector(const GraphqlField& field) {
  std::lock_guard lock(mutex_);
  int64_t now = clock_.now_ms();
  const Json& id_value = field.arguments["id"];
  std::string id = id_value.is_string() ? id_value.get<std::string>() : id_value.dump();
  auto it = std::find_if(connectors_.begin(), connectors_.end(),
                         [&](const FakeConnector& c) { return c.id == id; });
  if (it == connectors_.end()) {
    throw FakeQueryError("No connector found with the specified ID", false, "FUNCTIONAL_ERROR");
  }
  if (auto state = field.arguments.value("state", Json(nullptr)); state.is_string()) {
    it->state = state.get<std::string>();
  }
  it->last_ping_at = now;
  ++it->pings;
  calls_.push_back({"pingConnector", field.arguments, now});
  return project(*it, field.selections, now);
}

std::optional<FakeConnector> FakeConnectors::find(const std::string& id) const {
  std::lock_guard lock(mutex_);
  for (const auto& c : connectors_) {
    if (c.id == id) return c;
  }
  return std::nullopt;
}

std::vector<FakeConnectorCall> FakeConnectors::calls() const {
  std::lock_guard lock(mutex_);
  return calls_;
}

std::size_t FakeConnectors::call_count(const std::string& mutation) const {
  std::lock_guard lock(mutex_);
  return std::count_if(calls_.begin(), calls_.end(),
                       [&](const FakeConnectorCall& c) { return c.mutation == mutation; });
}

bool FakeConnectors::active(const std::string& id) const {
  auto c = find(id);
  return c && c->last_ping_at != 0 && clock_.now_ms() - c->last_ping_at < kActiveWindowMs;
}

void FakeConnectors::forget_all() {
  std::lock_guard lock(mutex_);
  connectors_.clear();
}

}  // namespace webhook::testing
