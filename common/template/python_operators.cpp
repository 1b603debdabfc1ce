#include "common/template/python_operators.h"

#include <cmath>
#include <limits>

#include "common/template/big_int.h"
#include "common/template/limits.h"
#include "common/template/py_error.h"
#include "common/template/python_repr.h"
#include "common/template/unicode.h"

namespace webhook::tmpl {
namespace {

bool is_int(const Value& v) { return v.kind() == Kind::kInt || v.kind() == Kind::kBool; }
bool is_num(const Value& v) { return is_int(v) || v.kind() == Kind::kFloat; }
int64_t int_of(const Value& v) { return v.kind() == Kind::kBool ? v.as_bool() : v.as_int(); }
double float_of(const Value& v) {
  if (v.kind() == Kind::kFloat) return v.as_float();
  if (v.is_big()) return big_to_double(v.as_big().v);
  return static_cast<double>(int_of(v));
}
bool is_seq(const Value& v) {
  return v.kind() == Kind::kStr || v.kind() == Kind::kList || v.kind() == Kind::kTuple;
}

const char* symbol(BinaryOp op) {
  switch (op) {
    case BinaryOp::kAdd:
      return "+";
    case BinaryOp::kSub:
      return "-";
    case BinaryOp::kMul:
      return "*";
    case BinaryOp::kDiv:
      return "/";
    case BinaryOp::kFloorDiv:
      return "//";
    case BinaryOp::kMod:
      return "%";
    case BinaryOp::kPow:
      return "** or pow()";
  }
  return "?";
}

[[noreturn]] void unsupported(BinaryOp op, const Value& a, const Value& b) {
  raise("TypeError", std::string("unsupported operand type(s) for ") + symbol(op) + ": '" +
                         type_name(a) + "' and '" + type_name(b) + "'");
}

// false when the result does not fit 64 bits (the caller goes on with BigInts).
bool int_pow(int64_t base, int64_t exp, int64_t& result) {
  result = 1;
  while (exp > 0) {
    if (exp & 1) {
      if (__builtin_mul_overflow(result, base, &result)) return false;
    }
    exp >>= 1;
    if (exp > 0 && __builtin_mul_overflow(base, base, &base)) return false;
  }
  return true;
}

// Python's float divmod; which = 0 for floor division, 1 for modulo.
double float_divmod(double vx, double wx, int which) {
  if (wx == 0) {
    raise("ZeroDivisionError", which == 0 ? "float floor division by zero" : "float modulo");
  }
  double mod = std::fmod(vx, wx);
  double div = (vx - mod) / wx;
  if (mod != 0) {
    if ((wx < 0) != (mod < 0)) {
      mod += wx;
      div -= 1.0;
    }
  } else {
    mod = std::copysign(0.0, wx);
  }
  double floordiv;
  if (div != 0) {
    floordiv = std::floor(div);
    if (div - floordiv > 0.5) floordiv += 1.0;
  } else {
    floordiv = std::copysign(0.0, vx / wx);
  }
  return which == 0 ? floordiv : mod;
}

double true_divide(int64_t a, int64_t b) {
  constexpr int64_t kExact = int64_t{1} << 53;
  if (a > -kExact && a < kExact && b > -kExact && b < kExact) {
    return static_cast<double>(a) / static_cast<double>(b);
  }
  return static_cast<double>(static_cast<long double>(a) / static_cast<long double>(b));
}

Value repeat(const Value& seq, int64_t count) {
  if (count < 0) count = 0;
  if (seq.kind() == Kind::kStr) {
    std::string_view s = seq.as_str();
    if (!s.empty() && static_cast<uint64_t>(count) > kMaxTextSize / s.size()) {
      check_text_size(kMaxTextSize + 1);
    }
    std::string out;
    out.reserve(s.size() * static_cast<std::size_t>(count));
    for (int64_t i = 0; i < count; ++i) out += s;
    return Value::str(std::move(out));
  }
  std::size_t n = seq.size();
  if (n && static_cast<uint64_t>(count) > kMaxListSize / n) check_list_size(kMaxListSize + 1);
  Items items;
  items.reserve(n * static_cast<std::size_t>(count));
  for (int64_t i = 0; i < count; ++i) {
    for (std::size_t k = 0; k < n; ++k) items.push_back(seq.item(k));
  }
  return seq.kind() == Kind::kTuple ? Value::tuple(std::move(items))
                                    : Value::list(std::move(items));
}

Value concat(const Value& a, const Value& b) {
  if (a.kind() == Kind::kStr) {
    check_text_size(a.as_str().size() + b.as_str().size());
    std::string out;
    out.reserve(a.as_str().size() + b.as_str().size());
    out += a.as_str();
    out += b.as_str();
    return Value::str(std::move(out));
  }
  check_list_size(a.size() + b.size());
  Items items;
  items.reserve(a.size() + b.size());
  for (std::size_t i = 0; i < a.size(); ++i) items.push_back(a.item(i));
  for (std::size_t i = 0; i < b.size(); ++i) items.push_back(b.item(i));
  return a.kind() == Kind::kTuple ? Value::tuple(std::move(items)) : Value::list(std::move(items));
}

}  // namespace

double float_pow(double x, double y) {
  if (y == 0) return 1.0;
  if (x == 0 && y < 0) raise("ZeroDivisionError", "0.0 cannot be raised to a negative power");
  if (x < 0 && std::isfinite(x) && std::isfinite(y) && y != std::floor(y)) {
    raise("ValueError", "a negative number to a fractional power is complex (not supported)");
  }
  double r = std::pow(x, y);
  if (std::isinf(r) && std::isfinite(x) && std::isfinite(y)) {
    raise("OverflowError", "(34, 'Numerical result out of range')");
  }
  return r;
}

Value float_to_int(double f) {
  if (std::isnan(f)) raise("ValueError", "cannot convert float NaN to integer");
  if (std::isinf(f)) raise("OverflowError", "cannot convert float infinity to integer");
  double t = std::trunc(f);
  if (t >= 9223372036854775808.0 || t < -9223372036854775808.0) {
    return make_int(big_from_double(t));
  }
  return Value::integer(static_cast<int64_t>(t));
}

Value binary_op(BinaryOp op, const Value& a, const Value& b) {
  if (is_num(a) && is_num(b)) {
    bool ints = is_int(a) && is_int(b);
    if (ints) {
      if (a.is_big() || b.is_big()) return big_arith(op, a, b);
      int64_t x = int_of(a), y = int_of(b), r;
      switch (op) {
        case BinaryOp::kAdd:
          if (__builtin_add_overflow(x, y, &r)) return big_arith(op, a, b);
          return Value::integer(r);
        case BinaryOp::kSub:
          if (__builtin_sub_overflow(x, y, &r)) return big_arith(op, a, b);
          return Value::integer(r);
        case BinaryOp::kMul:
          if (__builtin_mul_overflow(x, y, &r)) return big_arith(op, a, b);
          return Value::integer(r);
        case BinaryOp::kDiv:
          if (y == 0) raise("ZeroDivisionError", "division by zero");
          return Value::floating(true_divide(x, y));
        case BinaryOp::kFloorDiv: {
          if (y == 0) raise("ZeroDivisionError", "integer division or modulo by zero");
          if (x == std::numeric_limits<int64_t>::min() && y == -1) return big_arith(op, a, b);
          int64_t q = x / y;
          if ((x % y != 0) && ((x < 0) != (y < 0))) --q;
          return Value::integer(q);
        }
        case BinaryOp::kMod: {
          if (y == 0) raise("ZeroDivisionError", "integer modulo by zero");
          if (y == -1) return Value::integer(0);
          int64_t m = x % y;
          if (m != 0 && ((m < 0) != (y < 0))) m += y;
          return Value::integer(m);
        }
        case BinaryOp::kPow:
          if (y < 0) {
            if (x == 0) raise("ZeroDivisionError", "0.0 cannot be raised to a negative power");
            return Value::floating(float_pow(static_cast<double>(x), static_cast<double>(y)));
          }
          if (!int_pow(x, y, r)) return big_arith(op, a, b);
          return Value::integer(r);
      }
    }
    double x = float_of(a), y = float_of(b);
    switch (op) {
      case BinaryOp::kAdd:
        return Value::floating(x + y);
      case BinaryOp::kSub:
        return Value::floating(x - y);
      case BinaryOp::kMul:
        return Value::floating(x * y);
      case BinaryOp::kDiv:
        if (y == 0) raise("ZeroDivisionError", "float division by zero");
        return Value::floating(x / y);
      case BinaryOp::kFloorDiv:
        return Value::floating(float_divmod(x, y, 0));
      case BinaryOp::kMod:
        return Value::floating(float_divmod(x, y, 1));
      case BinaryOp::kPow:
        return Value::floating(float_pow(x, y));
    }
  }
  if (op == BinaryOp::kAdd) {
    if (is_seq(a)) {
      if (a.kind() == b.kind()) return concat(a, b);
      const char* t = a.kind() == Kind::kStr ? "str" : type_name(a);
      raise("TypeError",
            std::string("can only concatenate ") + t + " (not \"" + type_name(b) + "\") to " + t);
    }
  }
  if (op == BinaryOp::kMul) {
    if (is_seq(a) || is_seq(b)) {
      const Value& seq = is_seq(a) ? a : b;
      const Value& count = is_seq(a) ? b : a;
      if (count.is_big()) {  // either sign, as CPython's PyNumber_AsSsize_t
        raise("OverflowError", "cannot fit 'int' into an index-sized integer");
      }
      if (is_int(count)) return repeat(seq, int_of(count));
      raise("TypeError",
            std::string("can't multiply sequence by non-int of type '") + type_name(count) + "'");
    }
  }
  if (op == BinaryOp::kMod && a.kind() == Kind::kStr) {
    raise("TypeError", "printf-style '%' formatting of strings is not supported in templates");
  }
  unsupported(op, a, b);
}

Value unary_op(char op, const Value& v) {
  if (v.kind() == Kind::kFloat) return Value::floating(op == '-' ? -v.as_float() : v.as_float());
  if (is_int(v)) {
    if (v.is_big()) return op == '+' ? v : make_int(-v.as_big().v);
    int64_t i = int_of(v);
    if (op == '+') return Value::integer(i);
    if (i == std::numeric_limits<int64_t>::min()) return make_int(-cpp_int(i));
    return Value::integer(-i);
  }
  raise("TypeError", std::string("bad operand type for unary ") + op + ": '" + type_name(v) + "'");
}

bool contains(const Value& container, const Value& element) {
  switch (container.kind()) {
    case Kind::kStr:
      if (element.kind() != Kind::kStr) {
        raise("TypeError", std::string("'in <string>' requires string as left operand, not ") +
                               type_name(element));
      }
      return container.as_str().find(element.as_str()) != std::string_view::npos;
    case Kind::kList:
    case Kind::kTuple:
      spend_work(container.size());
      for (std::size_t i = 0; i < container.size(); ++i) {
        if (equals(container.item(i), element)) return true;
      }
      return false;
    case Kind::kDict: {
      Value ignored;
      return container.dict_find(element, ignored);
    }
    default:
      raise("TypeError",
            std::string("argument of type '") + type_name(container) + "' is not iterable");
  }
}

namespace {

// Normalises a Python index against a length; returns false when out of range.
bool normalise(int64_t& index, std::size_t length) {
  auto n = static_cast<int64_t>(length);
  if (index < 0) index += n;
  return index >= 0 && index < n;
}

bool is_ascii(std::string_view s) {
  for (unsigned char c : s) {
    if (c >= 0x80) return false;
  }
  return true;
}

}  // namespace

Value subscript(const Value& object, const Value& index) {
  switch (object.kind()) {
    case Kind::kDict: {
      Value out;
      if (object.dict_find(index, out)) return out;
      std::string key;
      append_repr(key, index);
      raise("KeyError", key);
    }
    case Kind::kList:
    case Kind::kTuple: {
      if (!is_int(index)) {
        raise("TypeError", std::string(type_name(object)) +
                               " indices must be integers or slices, not " + type_name(index));
      }
      if (index.is_big()) raise("IndexError", "cannot fit 'int' into an index-sized integer");
      int64_t i = int_of(index);
      if (!normalise(i, object.size())) {
        raise("IndexError", std::string(type_name(object)) + " index out of range");
      }
      return object.item(static_cast<std::size_t>(i));
    }
    case Kind::kStr: {
      if (!is_int(index)) {
        raise("TypeError",
              std::string("string indices must be integers, not '") + type_name(index) + "'");
      }
      std::string_view s = object.as_str();
      bool ascii = is_ascii(s);
      if (index.is_big()) raise("IndexError", "cannot fit 'int' into an index-sized integer");
      int64_t i = int_of(index);
      if (!normalise(i, ascii ? s.size() : code_point_count(s))) {
        raise("IndexError", "string index out of range");
      }
      if (ascii) return Value::str(std::string(1, s[static_cast<std::size_t>(i)]));
      std::size_t at = utf8_offset(s, static_cast<std::size_t>(i));
      std::size_t next = at;
      decode_utf8(s, next);
      return Value::str(std::string(s.substr(at, next - at)));
    }
    default:
      raise("TypeError", std::string("'") + type_name(object) + "' object is not subscriptable");
  }
}

Value slice(const Value& object, const Value& lower, const Value& upper, const Value& step_v) {
  if (object.kind() == Kind::kDict) raise("TypeError", "unhashable type: 'slice'");
  if (!is_seq(object)) {
    raise("TypeError", std::string("'") + type_name(object) + "' object is not subscriptable");
  }
  auto bound = [](const Value& v, int64_t fallback) {
    if (v.is_none()) return fallback;
    if (!is_int(v)) {
      raise("TypeError", "slice indices must be integers or None or have an __index__ method");
    }
    return int_of(v);
  };
  int64_t step = bound(step_v, 1);
  if (step == 0) raise("ValueError", "slice step cannot be zero");
  std::string_view s = object.kind() == Kind::kStr ? object.as_str() : std::string_view();
  bool ascii = object.kind() != Kind::kStr || is_ascii(s);
  auto length = static_cast<int64_t>(
      object.kind() == Kind::kStr ? (ascii ? s.size() : code_point_count(s)) : object.size());
  // PySlice_AdjustIndices
  auto adjust = [&](const Value& v, bool is_start) {
    int64_t def = step < 0 ? (is_start ? length - 1 : -1) : (is_start ? 0 : length);
    if (v.is_none()) return def;
    int64_t i = bound(v, 0);
    if (i < 0) {
      i += length;
      if (i < 0) i = step < 0 ? -1 : 0;
    } else if (i >= length) {
      i = step < 0 ? length - 1 : length;
    }
    return i;
  };
  int64_t start = adjust(lower, true), stop = adjust(upper, false);
  std::vector<int64_t> picks;
  spend_work(static_cast<std::size_t>(std::max<int64_t>(length, 0)));
  // A step near the int64 bounds (or a clamped BigInt) must not overflow the index.
  if (step > 0) {
    for (int64_t i = start; i < stop;) {
      picks.push_back(i);
      if (__builtin_add_overflow(i, step, &i)) break;
    }
  } else {
    for (int64_t i = start; i > stop;) {
      picks.push_back(i);
      if (__builtin_add_overflow(i, step, &i)) break;
    }
  }
  if (object.kind() == Kind::kStr) {
    std::string out;
    if (ascii) {
      if (step == 1 && !picks.empty())
        return Value::str(std::string(s.substr(static_cast<std::size_t>(start), picks.size())));
      for (int64_t i : picks) out += s[static_cast<std::size_t>(i)];
      return Value::str(std::move(out));
    }
    std::vector<std::pair<std::size_t, std::size_t>> chars;  // byte ranges of code points
    for (std::size_t i = 0; i < s.size();) {
      std::size_t b = i;
      decode_utf8(s, i);
      chars.emplace_back(b, i - b);
    }
    for (int64_t i : picks) out += s.substr(chars[i].first, chars[i].second);
    return Value::str(std::move(out));
  }
  Items items;
  items.reserve(picks.size());
  for (int64_t i : picks) items.push_back(object.item(static_cast<std::size_t>(i)));
  return object.kind() == Kind::kTuple ? Value::tuple(std::move(items))
                                       : Value::list(std::move(items));
}

bool iterate_until(const Value& v, const std::function<bool(const Value&)>& visit) {
  switch (v.kind()) {
    case Kind::kList:
    case Kind::kTuple:
      for (std::size_t i = 0; i < v.size(); ++i) {
        spend_work(1);
        if (!visit(v.item(i))) return false;
      }
      return true;
    case Kind::kDict:
      for (std::size_t i = 0; i < v.size(); ++i) {
        spend_work(1);
        if (!visit(v.dict_key(i))) return false;
      }
      return true;
    case Kind::kStr: {
      std::string_view s = v.as_str();
      for (std::size_t i = 0; i < s.size();) {
        std::size_t b = i;
        decode_utf8(s, i);
        if (!visit(Value::str(std::string(s.substr(b, i - b))))) return false;
      }
      return true;
    }
    default:
      raise("TypeError", std::string("'") + type_name(v) + "' object is not iterable");
  }
}

void iterate(const Value& v, const std::function<void(const Value&)>& visit) {
  iterate_until(v, [&](const Value& x) {
    visit(x);
    return true;
  });
}

Items to_items(const Value& v) {
  Items items;
  iterate(v, [&](const Value& x) { items.push_back(x); });
  return items;
}

}  // namespace webhook::tmpl
