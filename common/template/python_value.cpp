#include "common/template/python_value.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/json_bigint.h"
#include "common/template/big_int.h"
#include "common/template/limits.h"
#include "common/template/py_error.h"

namespace webhook::tmpl {

Value Value::boolean(bool b) {
  Value v;
  v.kind_ = Kind::kBool;
  v.u_.b = b;
  return v;
}

Value Value::integer(int64_t i) {
  Value v;
  v.kind_ = Kind::kInt;
  v.u_.i = i;
  return v;
}

Value Value::from_big(std::shared_ptr<const BigInt> big, int64_t saturated) {
  Value v;
  v.kind_ = Kind::kInt;
  v.big_ = true;
  v.u_.i = saturated;
  v.owner_ = std::move(big);
  return v;
}

Value Value::floating(double f) {
  Value v;
  v.kind_ = Kind::kFloat;
  v.u_.f = f;
  return v;
}

Value Value::str_view(std::string_view s) {
  Value v;
  v.kind_ = Kind::kStr;
  v.str_ = s;
  return v;
}

Value Value::str(std::string s) {
  spend_memory(s.size());
  auto owned = std::make_shared<const std::string>(std::move(s));
  Value v;
  v.kind_ = Kind::kStr;
  v.str_ = *owned;
  v.owner_ = std::move(owned);
  return v;
}

Value Value::list(Items items) {
  spend_memory(items.size() * sizeof(Value));
  auto owned = std::make_shared<const Items>(std::move(items));
  Value v;
  v.kind_ = Kind::kList;
  v.u_.items = owned.get();
  v.owner_ = std::move(owned);
  return v;
}

Value Value::tuple(Items items) {
  Value v = list(std::move(items));
  v.kind_ = Kind::kTuple;
  return v;
}

Value Value::dict(DictEntries entries) {
  spend_memory(entries.size() * sizeof(DictEntries::value_type));
  auto owned = std::make_shared<const DictEntries>(std::move(entries));
  Value v;
  v.kind_ = Kind::kDict;
  v.u_.entries = owned.get();
  v.owner_ = std::move(owned);
  return v;
}

Value Value::from_json(const Json& j) {
  switch (j.type()) {
    case Json::value_t::null:
    case Json::value_t::discarded:
      return Value();
    case Json::value_t::boolean:
      return boolean(j.get_ref<const Json::boolean_t&>());
    case Json::value_t::number_integer:
      return integer(j.get_ref<const Json::number_integer_t&>());
    case Json::value_t::number_unsigned: {
      auto u = j.get_ref<const Json::number_unsigned_t&>();
      if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        return make_int(cpp_int(u));
      return integer(static_cast<int64_t>(u));
    }
    case Json::value_t::number_float:
      return floating(j.get_ref<const Json::number_float_t&>());
    case Json::value_t::string:
      return str_view(j.get_ref<const Json::string_t&>());
    case Json::value_t::array: {
      Value v;
      v.kind_ = Kind::kList;
      v.json_ = &j;
      return v;
    }
    case Json::value_t::object: {
      Value v;
      v.kind_ = Kind::kDict;
      v.json_ = &j;
      return v;
    }
    case Json::value_t::binary:
      if (is_json_bigint(j)) {
        const auto& bytes = j.get_binary();
        std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
        bool negative = !text.empty() && text[0] == '-';
        if (negative) text.remove_prefix(1);
        bool digits =
            !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
        if (digits) {
          // The parser kept the digits of the answer; beyond the str() limit they still
          // make a number, as Python's json.loads (which has no such limit) did.
          cpp_int v = 0;
          for (std::size_t i = 0; i < text.size(); i += 4000) {
            std::string_view part = text.substr(i, 4000);
            v = v * boost::multiprecision::pow(cpp_int(10), static_cast<unsigned>(part.size())) +
                big_parse(part, 10);
          }
          return make_int(negative ? cpp_int(-v) : v);
        }
      }
      break;
  }
  raise("TypeError", "binary JSON values are not supported");
}

std::size_t Value::size() const {
  if (json_) return json_->size();
  return kind_ == Kind::kDict ? u_.entries->size() : u_.items->size();
}

Value Value::item(std::size_t index) const {
  if (json_) return from_json((*json_)[index]);
  return (*u_.items)[index];
}

Value Value::dict_key(std::size_t index) const {
  if (json_)
    return str_view(
        (json_->get_ref<const Json::object_t&>().begin() + static_cast<std::ptrdiff_t>(index))
            ->first);
  return (*u_.entries)[index].first;
}

Value Value::dict_value(std::size_t index) const {
  if (json_)
    return from_json(
        (json_->get_ref<const Json::object_t&>().begin() + static_cast<std::ptrdiff_t>(index))
            ->second);
  return (*u_.entries)[index].second;
}

bool Value::dict_find(const Value& key, Value& out) const {
  require_hashable(key);
  if (json_) {
    if (key.kind() != Kind::kStr) return false;  // JSON keys are strings
    for (auto it = json_->begin(); it != json_->end(); ++it) {
      if (it.key() == key.as_str()) {
        out = from_json(*it);
        return true;
      }
    }
    return false;
  }
  spend_work(u_.entries->size());
  for (const auto& [k, v] : *u_.entries) {
    if (equals(k, key)) {
      out = v;
      return true;
    }
  }
  return false;
}

const char* type_name(const Value& v) {
  switch (v.kind()) {
    case Kind::kNone:
      return "NoneType";
    case Kind::kBool:
      return "bool";
    case Kind::kInt:
      return "int";
    case Kind::kFloat:
      return "float";
    case Kind::kStr:
      return "str";
    case Kind::kList:
      return "list";
    case Kind::kTuple:
      return "tuple";
    case Kind::kDict:
      return "dict";
  }
  return "object";
}

bool truthy(const Value& v) {
  switch (v.kind()) {
    case Kind::kNone:
      return false;
    case Kind::kBool:
      return v.as_bool();
    case Kind::kInt:
      return v.as_int() != 0;
    case Kind::kFloat:
      return v.as_float() != 0.0;
    case Kind::kStr:
      return !v.as_str().empty();
    default:
      return v.size() != 0;
  }
}

namespace {

bool is_number(const Value& v) {
  return v.kind() == Kind::kBool || v.kind() == Kind::kInt || v.kind() == Kind::kFloat;
}

int64_t int_of(const Value& v) { return v.kind() == Kind::kBool ? v.as_bool() : v.as_int(); }

// -1, 0, 1, or 2 when unordered (NaN); exact, as Python compares int with float.
int compare_int_float(int64_t i, double f) {
  if (std::isnan(f)) return 2;
  if (f >= 9223372036854775808.0) return -1;
  if (f < -9223372036854775808.0) return 1;
  double fl = std::floor(f);
  auto fi = static_cast<int64_t>(fl);
  if (i < fi) return -1;
  if (i > fi) return 1;
  return f > fl ? -1 : 0;
}

int sign_of(const cpp_int& c) { return c < 0 ? -1 : (c > 0 ? 1 : 0); }

int compare_big(const Value& a, const Value& b) {
  bool af = a.kind() == Kind::kFloat, bf = b.kind() == Kind::kFloat;
  if (!af && !bf) return sign_of(big_of(a) - big_of(b));
  if (af) {
    int c = big_compare_float(big_of(b), a.as_float());
    return c == 2 ? 2 : -c;
  }
  return big_compare_float(big_of(a), b.as_float());
}

int compare_numbers(const Value& a, const Value& b) {
  if (a.is_big() || b.is_big()) return compare_big(a, b);
  bool af = a.kind() == Kind::kFloat, bf = b.kind() == Kind::kFloat;
  if (!af && !bf) {
    int64_t x = int_of(a), y = int_of(b);
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  if (af && bf) {
    double x = a.as_float(), y = b.as_float();
    if (std::isnan(x) || std::isnan(y)) return 2;
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  if (af) {
    int c = compare_int_float(int_of(b), a.as_float());
    return c == 2 ? 2 : -c;
  }
  return compare_int_float(int_of(a), b.as_float());
}

bool is_sequence(const Value& v) { return v.kind() == Kind::kList || v.kind() == Kind::kTuple; }

}  // namespace

bool equals(const Value& a, const Value& b) {
  if (is_number(a) && is_number(b)) return compare_numbers(a, b) == 0;
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Kind::kNone:
      return true;
    case Kind::kStr:
      return a.as_str() == b.as_str();
    case Kind::kList:
    case Kind::kTuple: {
      if (a.size() != b.size()) return false;
      spend_work(a.size());
      for (std::size_t i = 0; i < a.size(); ++i) {
        if (!equals(a.item(i), b.item(i))) return false;
      }
      return true;
    }
    case Kind::kDict: {
      if (a.size() != b.size()) return false;
      spend_work(a.size());
      for (std::size_t i = 0; i < a.size(); ++i) {
        Value other;
        if (!b.dict_find(a.dict_key(i), other) || !equals(a.dict_value(i), other)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

bool ordered_compare(const Value& a, const Value& b, std::string_view op) {
  auto holds = [&](int c) {
    if (c == 2) return false;
    if (op == "<") return c < 0;
    if (op == "<=") return c <= 0;
    if (op == ">") return c > 0;
    return c >= 0;
  };
  if (is_number(a) && is_number(b)) return holds(compare_numbers(a, b));
  if (a.kind() == Kind::kStr && b.kind() == Kind::kStr) {
    int c = a.as_str().compare(b.as_str());
    return holds(c < 0 ? -1 : (c > 0 ? 1 : 0));
  }
  if (is_sequence(a) && a.kind() == b.kind()) {
    std::size_t n = std::min(a.size(), b.size());
    for (std::size_t i = 0; i < n; ++i) {
      spend_work(1);
      Value x = a.item(i), y = b.item(i);
      if (!equals(x, y)) return ordered_compare(x, y, op);
    }
    return holds(a.size() < b.size() ? -1 : (a.size() > b.size() ? 1 : 0));
  }
  raise("TypeError", "'" + std::string(op) + "' not supported between instances of '" +
                         type_name(a) + "' and '" + type_name(b) + "'");
}

void require_hashable(const Value& v) {
  if (v.kind() == Kind::kList || v.kind() == Kind::kDict) {
    raise("TypeError", std::string("unhashable type: '") + type_name(v) + "'");
  }
  if (v.kind() == Kind::kTuple) {
    for (std::size_t i = 0; i < v.size(); ++i) require_hashable(v.item(i));
  }
}

std::size_t code_point_count(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace webhook::tmpl
