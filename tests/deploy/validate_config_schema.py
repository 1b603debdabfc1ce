"""Checks __metadata__/connector_config_schema.json with Debian's python3-jsonschema, for
tests/deploy/connector_schema_test.cpp.

usage: validate_config_schema.py SCHEMA < INSTANCES

First checks SCHEMA against the JSON Schema draft 2020-12 meta-schema (exit 1 with the
reason if it fails). Then reads one JSON object per line on stdin, an environment as the
connector manager holds it (every value a string), converts each value to its property's
type as the platform does before validating (its Ajv runs with coerceTypes: "true" becomes
true, "60" becomes 60; a string that does not convert stays a string and fails the type),
validates it, and prints one JSON line per instance: {"valid": bool, "errors": [...]},
each error naming the property it concerns.
"""

import json
import re
import sys

import jsonschema
from jsonschema import Draft202012Validator

NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")


def coerce(value, prop):
    if not isinstance(value, str):
        return value
    kind = prop.get("type")
    if kind == "boolean" and value in ("true", "false"):
        return value == "true"
    if kind in ("integer", "number") and NUMBER.fullmatch(value):
        number = float(value)
        if kind == "integer":
            return int(number) if number.is_integer() and "." not in value else value
        return number
    return value


def error_entry(error):
    if error.validator == "required":
        name = error.message.split("'")[1]
    else:
        name = "/".join(str(p) for p in error.absolute_path)
    return {"property": name, "keyword": error.validator, "message": error.message}


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        schema = json.load(f)
    if jsonschema.validators.validator_for(schema) is not Draft202012Validator:
        print("the schema does not declare draft 2020-12 in $schema", file=sys.stderr)
        return 1
    try:
        Draft202012Validator.check_schema(schema)
    except jsonschema.exceptions.SchemaError as e:
        print("not a valid draft 2020-12 schema: " + e.message, file=sys.stderr)
        return 1
    print(json.dumps({"schema": "ok"}))
    validator = Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    properties = schema.get("properties", {})
    for line in sys.stdin:
        if not line.strip():
            continue
        instance = json.loads(line)
        instance = {k: coerce(v, properties.get(k, {})) for k, v in instance.items()}
        errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
        print(json.dumps({"valid": not errors, "errors": [error_entry(e) for e in errors]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
