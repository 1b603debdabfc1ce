// Writes a JSON tree made by read_json back as compact JSON text that is always valid
// UTF-8, for the places that show or store an item (a dead job's body, --dry-run lines,
// check-config's first answer). Unlike nlohmann's dump(), which throws on invalid UTF-8, it
// writes a lone surrogate as its \udXXX escape, an exact big integer as its digits, and
// NaN and infinities as Python's json.dumps does. Iterative; stateless; safe from any thread.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace webhook {

std::string write_json(const nlohmann::ordered_json& value);

}  // namespace webhook
