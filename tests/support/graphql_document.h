// A small GraphQL reader for the fake OpenCTI: one query or mutation operation (shorthand `{…}` or
// `query Name($v: T = default) {…}`) with fields, aliases, arguments, variables, inline
// fragments and every literal kind. It is enough to answer the queries users write for the
// webhook connector; anything else is a ParseError with the offset, as a GraphQL server
// would report GRAPHQL_PARSE_FAILED. Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace webhook::testing {

struct GraphqlField {
  std::string alias;  // the response key: the alias, or the name
  std::string name;
  nlohmann::ordered_json arguments = nlohmann::ordered_json::object();  // variables resolved
  // Arguments given as a bare `$variable`: argument name -> variable name.
  std::map<std::string, std::string> argument_variables;
  std::vector<GraphqlField> selections;  // inline fragments are merged in
};

struct GraphqlOperation {
  std::string kind = "query";                         // query | mutation | subscription
  std::map<std::string, std::string> variable_types;  // `$name: Type` -> "Type", as written
  std::vector<GraphqlField> selections;
};

class GraphqlParseError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Parses `text`, substituting `$name` with variables[name] (or the declared default, else
// null). Enum values come out as JSON strings. Throws GraphqlParseError.
GraphqlOperation parse_graphql(std::string_view text, const nlohmann::ordered_json& variables);

}  // namespace webhook::testing
