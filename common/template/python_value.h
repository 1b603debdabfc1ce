// The Python value model the interpreter computes with: None, bool, int (64-bit, or a
// BigInt beyond: see big_int.h), float, str, list, tuple and dict. Values read from the item borrow
// the JSON tree (no copy); values computed while rendering own their storage through a shared
// pointer. A Value is immutable once built, so copies are cheap and sharing is safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace webhook::tmpl {

using Json = nlohmann::ordered_json;

enum class Kind : uint8_t { kNone, kBool, kInt, kFloat, kStr, kList, kTuple, kDict };

class Value;
struct BigInt;  // big_int.h
using Items = std::vector<Value>;
using DictEntries = std::vector<std::pair<Value, Value>>;

class Value {
 public:
  Value() = default;  // None

  static Value none() { return Value(); }
  static Value boolean(bool b);
  static Value integer(int64_t i);
  // An int beyond 64 bits (make_int in big_int.h builds these); `saturated` is what
  // as_int() returns for it: INT64_MAX or INT64_MIN by its sign.
  static Value from_big(std::shared_ptr<const BigInt> big, int64_t saturated);
  static Value floating(double f);
  // A string that lives at least as long as the rendering (template literal or JSON text).
  static Value str_view(std::string_view s);
  static Value str(std::string s);
  static Value list(Items items);
  static Value tuple(Items items);
  static Value dict(DictEntries entries);
  // Borrows a JSON node: scalars become native values, arrays and objects are referenced.
  // An integer beyond 64-bit signed range (an unsigned number, or the parser's binary node
  // of decimal digits, common/json_bigint.h) becomes a BigInt.
  static Value from_json(const Json& j);

  Kind kind() const { return kind_; }
  bool is_none() const { return kind_ == Kind::kNone; }
  bool as_bool() const { return u_.b; }
  // REQUIRES: kind() is kInt. For a BigInt, the nearest int64 (so code that only needs a
  // bound, such as a count or a slice index, clamps as CPython does).
  int64_t as_int() const { return u_.i; }
  bool is_big() const { return big_; }
  const BigInt& as_big() const {  // REQUIRES: is_big()
    return *static_cast<const BigInt*>(owner_.get());
  }
  double as_float() const { return u_.f; }
  std::string_view as_str() const { return str_; }

  // Sequences (list or tuple) and dicts, whether borrowed from JSON or owned.
  bool borrowed() const { return json_ != nullptr; }
  const Json* json() const { return json_; }
  std::size_t size() const;                 // REQUIRES: list, tuple or dict
  Value item(std::size_t index) const;      // REQUIRES: list or tuple, index < size()
  Value dict_key(std::size_t index) const;  // REQUIRES: dict, index < size()
  Value dict_value(std::size_t index) const;
  // Looks up a key in a dict; nullopt-like: returns false when absent. Throws PyError for an
  // unhashable key.
  bool dict_find(const Value& key, Value& out) const;

 private:
  Kind kind_ = Kind::kNone;
  bool big_ = false;  // an int held in owner_ as a BigInt
  union {
    bool b;
    int64_t i;
    double f;
    const Items* items;
    const DictEntries* entries;
  } u_{};
  const Json* json_ = nullptr;  // borrowed list or dict
  std::string_view str_;
  std::shared_ptr<const void> owner_;
};

// Python's type name of a value ('int', 'NoneType', ...), as it appears in error messages.
const char* type_name(const Value& v);
// Python's truth value.
bool truthy(const Value& v);
// Python's == (numbers compare across int, float and bool; list and tuple never equal).
bool equals(const Value& a, const Value& b);
// Python's < <= > >= (op is the operator's text); throws PyError TypeError for types that
// do not order.
bool ordered_compare(const Value& a, const Value& b, std::string_view op);
// True for the types that may be dict keys; throws TypeError "unhashable type" otherwise.
void require_hashable(const Value& v);
// Number of code points in a UTF-8 string.
std::size_t code_point_count(std::string_view s);

}  // namespace webhook::tmpl
