#include "common/template/builtins.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "common/template/big_int.h"
#include "common/template/limits.h"
#include "common/template/py_error.h"
#include "common/template/python_operators.h"
#include "common/template/python_repr.h"
#include "common/template/unicode.h"

namespace webhook::tmpl {
namespace {

bool is_int(const Value& v) { return v.kind() == Kind::kInt || v.kind() == Kind::kBool; }
int64_t int_of(const Value& v) { return v.kind() == Kind::kBool ? v.as_bool() : v.as_int(); }

std::string repr_of(const Value& v) {
  std::string s;
  append_repr(s, v);
  return s;
}

// Python's whitespace strip, for int() and float() arguments.
std::string_view strip_space(std::string_view s) {
  std::size_t b = 0, e = s.size();
  while (b < e) {
    std::size_t i = b;
    if (!is_space(decode_utf8(s, i))) break;
    b = i;
  }
  while (e > b) {
    std::size_t k = e - 1;
    while (k > b && (static_cast<unsigned char>(s[k]) & 0xC0) == 0x80) --k;
    std::size_t i = k;
    if (!is_space(decode_utf8(s, i))) break;
    e = k;
  }
  return s.substr(b, e - b);
}

// Removes single underscores between digits; false when misplaced.
bool drop_underscores(std::string_view s, std::string& out) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '_') {
      if (i == 0 || i + 1 == s.size() || !std::isdigit(static_cast<unsigned char>(s[i - 1])) ||
          !std::isdigit(static_cast<unsigned char>(s[i + 1]))) {
        return false;
      }
      continue;
    }
    out += s[i];
  }
  return true;
}

Value to_int(const Value& v) {
  switch (v.kind()) {
    case Kind::kInt:
      return v;
    case Kind::kBool:
      return Value::integer(v.as_bool());
    case Kind::kFloat:
      return float_to_int(v.as_float());
    case Kind::kStr: {
      std::string_view s = strip_space(v.as_str());
      std::string digits;
      std::size_t i = 0;
      bool negative = false;
      if (!s.empty() && (s[0] == '+' || s[0] == '-')) negative = s[i++] == '-';
      bool ok =
          i < s.size() && drop_underscores(s.substr(i), digits) && !digits.empty() &&
          std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
      if (!ok) raise("ValueError", "invalid literal for int() with base 10: " + repr_of(v));
      if (digits.size() > 18) {
        cpp_int big = big_parse(digits, 10);
        return make_int(negative ? cpp_int(-big) : big);
      }
      auto mag = static_cast<int64_t>(big_parse(digits, 10));  // at most 18 digits
      return Value::integer(negative ? -mag : mag);
    }
    default:
      raise("TypeError",
            std::string("int() argument must be a string, a bytes-like object or a real number, "
                        "not '") +
                type_name(v) + "'");
  }
}

Value to_float(const Value& v) {
  switch (v.kind()) {
    case Kind::kFloat:
      return v;
    case Kind::kInt:
      if (v.is_big()) return Value::floating(big_to_double(v.as_big().v));
      return Value::floating(static_cast<double>(int_of(v)));
    case Kind::kBool:
      return Value::floating(static_cast<double>(int_of(v)));
    case Kind::kStr: {
      std::string_view s = strip_space(v.as_str());
      std::string body;
      std::size_t i = 0;
      if (!s.empty() && (s[0] == '+' || s[0] == '-')) ++i;
      std::string word;
      for (char c : s.substr(i))
        word += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      bool negative = !s.empty() && s[0] == '-';
      if (word == "inf" || word == "infinity")
        return Value::floating(negative ? -INFINITY : INFINITY);
      if (word == "nan") return Value::floating(negative ? -NAN : NAN);
      // digits [. digits] [e [sign] digits], at least one digit in the mantissa
      std::string clean;
      bool ok = drop_underscores(s, clean) && !clean.empty();
      if (ok) {
        std::size_t k = (clean[0] == '+' || clean[0] == '-') ? 1 : 0, mant = 0;
        while (k < clean.size() && std::isdigit(static_cast<unsigned char>(clean[k]))) ++k, ++mant;
        if (k < clean.size() && clean[k] == '.') {
          ++k;
          while (k < clean.size() && std::isdigit(static_cast<unsigned char>(clean[k])))
            ++k, ++mant;
        }
        ok = mant > 0;
        if (ok && k < clean.size() && (clean[k] == 'e' || clean[k] == 'E')) {
          ++k;
          if (k < clean.size() && (clean[k] == '+' || clean[k] == '-')) ++k;
          std::size_t exp_digits = 0;
          while (k < clean.size() && std::isdigit(static_cast<unsigned char>(clean[k])))
            ++k, ++exp_digits;
          ok = exp_digits > 0;
        }
        ok = ok && k == clean.size();
      }
      if (!ok) raise("ValueError", "could not convert string to float: " + repr_of(v));
      return Value::floating(std::strtod(clean.c_str(), nullptr));
    }
    default:
      raise("TypeError", std::string("float() argument must be a string or a real number, not '") +
                             type_name(v) + "'");
  }
}

double round_float(double x, int64_t n) {
  if (!std::isfinite(x) || x == 0 || n > 323) return x;
  if (n < -400) return std::copysign(0.0, x);
  char buf[512];
  if (n >= 0) {
    std::snprintf(buf, sizeof buf, "%.*f", static_cast<int>(n), x);
    return std::strtod(buf, nullptr);
  }
  std::snprintf(buf, sizeof buf, "%.0e", x);
  int decpt = std::atoi(std::strchr(buf, 'e') + 1) + 1;  // of x itself (may be off by a carry)
  std::snprintf(buf, sizeof buf, "%.17e", x);
  decpt = std::atoi(std::strchr(buf, 'e') + 1) + 1;
  int64_t significant = decpt + n;
  double unit = std::pow(10.0, static_cast<double>(-n));
  if (significant < 0) return std::copysign(0.0, x);
  if (significant == 0) {
    return std::fabs(x) > 0.5 * unit ? std::copysign(unit, x) : std::copysign(0.0, x);
  }
  std::snprintf(buf, sizeof buf, "%.*e", static_cast<int>(significant - 1), x);
  return std::strtod(buf, nullptr);
}

Value round_value(const Value& x, const Value* ndigits) {
  if (ndigits && !ndigits->is_none() && !is_int(*ndigits)) {
    raise("TypeError",
          std::string("'") + type_name(*ndigits) + "' object cannot be interpreted as an integer");
  }
  bool has_n = ndigits && !ndigits->is_none();
  if (is_int(x)) {
    if (!has_n || int_of(*ndigits) >= 0)
      return x.kind() == Kind::kBool ? Value::integer(int_of(x)) : x;
    // Round half to even at 10^k, exactly (k beyond the int's digits gives 0).
    int64_t k = -int_of(*ndigits);
    cpp_int i = big_of(x);
    if (k > static_cast<int64_t>(kMaxIntBits)) return Value::integer(0);
    cpp_int unit = boost::multiprecision::pow(cpp_int(10), static_cast<unsigned>(k));
    cpp_int q, r;
    big_floor_divmod(i, unit, q, r);
    if (2 * r > unit || (2 * r == unit && (q & 1) != 0)) ++q;
    return make_int(q * unit);
  }
  if (x.kind() != Kind::kFloat) {
    raise("TypeError", std::string("type ") + type_name(x) + " doesn't define __round__ method");
  }
  double f = x.as_float();
  if (!has_n) {
    if (std::isnan(f)) raise("ValueError", "cannot convert float NaN to integer");
    if (std::isinf(f)) raise("OverflowError", "cannot convert float infinity to integer");
    return float_to_int(std::nearbyint(f));
  }
  return Value::floating(round_float(f, int_of(*ndigits)));
}

Value extreme(const char* name, const Items& args, const Value* fallback, bool is_max) {
  Items candidates = args.size() == 1 ? to_items(args[0]) : args;
  if (candidates.empty()) {
    if (fallback) return *fallback;
    raise("ValueError", std::string(name) + "() arg is an empty sequence");
  }
  Value best = candidates[0];
  for (std::size_t i = 1; i < candidates.size(); ++i) {
    if (ordered_compare(candidates[i], best, is_max ? ">" : "<")) best = candidates[i];
  }
  return best;
}

// As list.sort: reverse, stable sort with `<`, reverse again (so equal elements keep their
// order); the first pass over neighbours raises the TypeError CPython's run detection would.
Value sorted_value(const Value& iterable, bool reverse) {
  Items items = to_items(iterable);
  if (reverse) std::reverse(items.begin(), items.end());
  for (std::size_t i = 1; i < items.size(); ++i) ordered_compare(items[i], items[i - 1], "<");
  std::stable_sort(items.begin(), items.end(),
                   [](const Value& a, const Value& b) { return ordered_compare(a, b, "<"); });
  if (reverse) std::reverse(items.begin(), items.end());
  return Value::list(std::move(items));
}

Value dumps(const Value& v, const Node& call, const Items& args) {
  JsonDumpsOptions o;
  bool separators_given = false;
  std::size_t first_kw = args.size() - call.keywords.size();
  for (std::size_t k = 0; k < call.keywords.size(); ++k) {
    const std::string& name = call.keywords[k];
    const Value& a = args[first_kw + k];
    if (name == "ensure_ascii") o.ensure_ascii = truthy(a);
    if (name == "sort_keys") o.sort_keys = truthy(a);
    if (name == "indent" && !a.is_none()) {
      o.indent_set = true;
      if (a.kind() == Kind::kStr) {
        o.indent = std::string(a.as_str());
      } else if (is_int(a)) {
        o.indent =
            std::string(static_cast<std::size_t>(std::clamp<int64_t>(int_of(a), 0, 1000)), ' ');
      } else {
        raise("TypeError", "json.dumps(indent=...) must be an int, a str or None");
      }
    }
    if (name == "separators" && !a.is_none()) {
      if ((a.kind() != Kind::kTuple && a.kind() != Kind::kList) || a.size() != 2 ||
          a.item(0).kind() != Kind::kStr || a.item(1).kind() != Kind::kStr) {
        raise("TypeError", "json.dumps(separators=...) must be a pair of strings");
      }
      o.item_separator = std::string(a.item(0).as_str());
      o.key_separator = std::string(a.item(1).as_str());
      separators_given = true;
    }
  }
  if (o.indent_set && !separators_given) o.item_separator = ",";
  std::string out;
  json_dumps(out, v, o);
  return Value::str(std::move(out));
}

// any() / all(): the first element whose truth is `stop_at` decides. A generator argument
// is run lazily, so elements after the answer are never computed (as in Python).
Value any_or_all(const Node& call, Frame& frame, bool stop_at) {
  bool found = false;
  auto visit = [&](const Value& v) {
    if (truthy(v) == stop_at) found = true;
    return !found;
  };
  const Node& arg = *call.children[0];
  if (arg.kind == NodeKind::kComprehension) {
    generate(arg, frame, visit);
  } else {
    iterate_until(evaluate(arg, frame), visit);
  }
  return Value::boolean(found == stop_at);
}

}  // namespace

Value call_builtin(const Node& call, Frame& frame) {
  if (call.op == static_cast<int>(Builtin::kAny)) return any_or_all(call, frame, true);
  if (call.op == static_cast<int>(Builtin::kAll)) return any_or_all(call, frame, false);
  Items args;
  args.reserve(call.children.size());
  for (const auto& c : call.children) args.push_back(evaluate(*c, frame));
  std::size_t positional = args.size() - call.keywords.size();
  auto keyword = [&](const char* name) -> const Value* {
    for (std::size_t k = 0; k < call.keywords.size(); ++k) {
      if (call.keywords[k] == name) return &args[positional + k];
    }
    return nullptr;
  };
  switch (static_cast<Builtin>(call.op)) {
    case Builtin::kLen: {
      const Value& v = args[0];
      if (v.kind() == Kind::kStr)
        return Value::integer(static_cast<int64_t>(code_point_count(v.as_str())));
      if (v.kind() == Kind::kList || v.kind() == Kind::kTuple || v.kind() == Kind::kDict) {
        return Value::integer(static_cast<int64_t>(v.size()));
      }
      raise("TypeError", std::string("object of type '") + type_name(v) + "' has no len()");
    }
    case Builtin::kStr: {
      if (args.empty()) return Value::str_view("");
      if (args[0].kind() == Kind::kStr) return args[0];
      std::string s;
      append_str(s, args[0]);
      return Value::str(std::move(s));
    }
    case Builtin::kRepr:
      return Value::str(repr_of(args[0]));
    case Builtin::kAscii: {
      std::string s;
      append_repr(s, args[0], true);
      return Value::str(std::move(s));
    }
    case Builtin::kInt:
      return args.empty() ? Value::integer(0) : to_int(args[0]);
    case Builtin::kFloat:
      return args.empty() ? Value::floating(0.0) : to_float(args[0]);
    case Builtin::kBool:
      return Value::boolean(!args.empty() && truthy(args[0]));
    case Builtin::kRound:
      return round_value(args[0], positional > 1 ? &args[1] : nullptr);
    case Builtin::kAbs: {
      const Value& v = args[0];
      if (v.kind() == Kind::kFloat) return Value::floating(std::fabs(v.as_float()));
      if (is_int(v))
        return int_of(v) < 0 ? unary_op('-', v) : (v.is_big() ? v : Value::integer(int_of(v)));
      raise("TypeError", std::string("bad operand type for abs(): '") + type_name(v) + "'");
    }
    case Builtin::kMin:
    case Builtin::kMax: {
      bool is_max = static_cast<Builtin>(call.op) == Builtin::kMax;
      Items pos(args.begin(), args.begin() + static_cast<std::ptrdiff_t>(positional));
      const Value* fallback = keyword("default");
      if (fallback && positional > 1) {
        raise("TypeError", std::string("Cannot specify a default for ") + (is_max ? "max" : "min") +
                               "() with multiple positional arguments");
      }
      return extreme(is_max ? "max" : "min", pos, fallback, is_max);
    }
    case Builtin::kSorted: {
      const Value* reverse = keyword("reverse");
      return sorted_value(args[0], reverse && truthy(*reverse));
    }
    case Builtin::kIso:
      return Value::str(iso_from_ms(args[0]));
    case Builtin::kQuote:
      if (args[0].kind() != Kind::kStr) {
        raise("TypeError", std::string("quote() argument must be str, not ") + type_name(args[0]));
      }
      return Value::str(percent_quote(args[0].as_str()));
    case Builtin::kJsonDumps:
      return dumps(args[0], call, args);
    case Builtin::kTimeTime:
      return Value::floating(static_cast<double>(frame.clock->now_ms()) / 1000.0);
    case Builtin::kAny:
    case Builtin::kAll:
      break;  // handled above: they must not evaluate a generator argument eagerly
  }
  raise("SystemError", "unknown built-in");
}

std::string percent_quote(std::string_view s) {
  static const char kHexUpper[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '_' || c == '.' || c == '-' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHexUpper[c >> 4];
      out += kHexUpper[c & 15];
    }
  }
  check_text_size(out.size());
  return out;
}

std::string iso_from_ms(const Value& v) {
  int64_t ms;
  if (is_int(v)) {
    ms = int_of(v);
  } else if (v.kind() == Kind::kFloat) {
    double f = v.as_float();
    if (std::isnan(f)) raise("ValueError", "cannot convert float NaN to integer");
    if (!(std::fabs(f) < 1e18)) raise("ValueError", "iso() argument out of range");
    ms = static_cast<int64_t>(std::floor(f));
  } else {
    raise("TypeError", std::string("iso() argument must be a number of milliseconds, not '") +
                           type_name(v) + "'");
  }
  if (ms < -62135596800000 || ms > 253402300799999)
    raise("ValueError", "iso() argument out of range");
  int64_t days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
  int64_t rem = ms - days * 86400000;
  // civil_from_days (Howard Hinnant)
  int64_t z = days + 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int64_t d = doy - (153 * mp + 2) / 5 + 1;
  int64_t m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) ++y;
  char buf[128];
  std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld.%03lldZ",
                static_cast<long long>(y), static_cast<long long>(m), static_cast<long long>(d),
                static_cast<long long>(rem / 3600000), static_cast<long long>(rem / 60000 % 60),
                static_cast<long long>(rem / 1000 % 60), static_cast<long long>(rem % 1000));
  return buf;
}

}  // namespace webhook::tmpl
