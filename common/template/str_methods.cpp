// The methods of str (lower upper strip lstrip rstrip replace split join startswith
// endswith) and dict.get, with CPython's argument checks and messages.
#include <algorithm>
#include <functional>

#include "common/template/builtins.h"
#include "common/template/limits.h"
#include "common/template/py_error.h"
#include "common/template/python_operators.h"
#include "common/template/unicode.h"

namespace webhook::tmpl {
namespace {

bool is_int(const Value& v) { return v.kind() == Kind::kInt || v.kind() == Kind::kBool; }
int64_t int_of(const Value& v) { return v.kind() == Kind::kBool ? v.as_bool() : v.as_int(); }

void arity(const std::string& name, const Items& args, std::size_t lo, std::size_t hi) {
  if (args.size() < lo) {
    raise("TypeError", name + " expected at least " + std::to_string(lo) + " argument" +
                           (lo == 1 ? "" : "s") + ", got " + std::to_string(args.size()));
  }
  if (args.size() > hi) {
    if (hi == 0) {
      raise("TypeError",
            name + "() takes no arguments (" + std::to_string(args.size()) + " given)");
    }
    raise("TypeError", name + " expected at most " + std::to_string(hi) + " argument" +
                           (hi == 1 ? "" : "s") + ", got " + std::to_string(args.size()));
  }
}

// The code points of a string, as byte ranges.
std::vector<std::string_view> chars_of(std::string_view s) {
  std::vector<std::string_view> out;
  for (std::size_t i = 0; i < s.size();) {
    std::size_t b = i;
    decode_utf8(s, i);
    out.push_back(s.substr(b, i - b));
  }
  return out;
}

Value strip(std::string_view s, const Items& args, bool left, bool right, const std::string& name) {
  arity(name, args, 0, 1);
  std::vector<std::string_view> chars = chars_of(s);
  std::function<bool(std::string_view)> strip_it;
  if (args.empty() || args[0].is_none()) {
    strip_it = [](std::string_view c) {
      std::size_t i = 0;
      return is_space(decode_utf8(c, i));
    };
  } else if (args[0].kind() == Kind::kStr) {
    std::vector<std::string_view> set = chars_of(args[0].as_str());
    strip_it = [set](std::string_view c) {
      return std::find(set.begin(), set.end(), c) != set.end();
    };
  } else {
    raise("TypeError", name + " arg must be None or str");
  }
  std::size_t b = 0, e = chars.size();
  if (left) {
    while (b < e && strip_it(chars[b])) ++b;
  }
  if (right) {
    while (e > b && strip_it(chars[e - 1])) --e;
  }
  if (b == e) return Value::str_view("");
  std::size_t from = static_cast<std::size_t>(chars[b].data() - s.data());
  std::size_t to = static_cast<std::size_t>(chars[e - 1].data() - s.data()) + chars[e - 1].size();
  return Value::str(std::string(s.substr(from, to - from)));
}

Value replace(std::string_view s, const Items& args) {
  arity("replace", args, 2, 3);
  for (int i = 0; i < 2; ++i) {
    if (args[static_cast<std::size_t>(i)].kind() != Kind::kStr) {
      raise("TypeError", "replace() argument " + std::to_string(i + 1) + " must be str, not " +
                             type_name(args[static_cast<std::size_t>(i)]));
    }
  }
  int64_t count = -1;
  if (args.size() == 3) {
    if (!is_int(args[2])) {
      raise("TypeError",
            std::string("'") + type_name(args[2]) + "' object cannot be interpreted as an integer");
    }
    count = int_of(args[2]);
  }
  std::string_view old = args[0].as_str(), with = args[1].as_str();
  std::string out;
  if (old.empty()) {
    std::vector<std::string_view> chars = chars_of(s);
    int64_t done = 0;
    for (std::size_t i = 0; i <= chars.size(); ++i) {
      if (count < 0 || done < count) {
        out += with;
        ++done;
      }
      if (i < chars.size()) out += chars[i];
      check_text_size(out.size());
    }
    return Value::str(std::move(out));
  }
  std::size_t pos = 0;
  int64_t done = 0;
  while (count < 0 || done < count) {
    std::size_t at = s.find(old, pos);
    if (at == std::string_view::npos) break;
    out += s.substr(pos, at - pos);
    out += with;
    check_text_size(out.size());
    pos = at + old.size();
    ++done;
  }
  out += s.substr(pos);
  return Value::str(std::move(out));
}

Value split(std::string_view s, const Node& call, const Items& all) {
  std::size_t positional = all.size() - call.keywords.size();
  Items args(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(positional));
  arity("split", args, 0, 2);
  Value sep = args.size() > 0 ? args[0] : Value();
  Value maxsplit_v = args.size() > 1 ? args[1] : Value::integer(-1);
  for (std::size_t k = 0; k < call.keywords.size(); ++k) {
    const std::string& name = call.keywords[k];
    if (name == "sep") {
      sep = all[positional + k];
    } else if (name == "maxsplit") {
      maxsplit_v = all[positional + k];
    } else {
      raise("TypeError", "split() got an unexpected keyword argument '" + name + "'");
    }
  }
  if (!is_int(maxsplit_v)) {
    raise("TypeError", std::string("'") + type_name(maxsplit_v) +
                           "' object cannot be interpreted as an integer");
  }
  int64_t maxsplit = int_of(maxsplit_v);
  Items parts;
  if (sep.is_none()) {
    std::vector<std::string_view> chars = chars_of(s);
    auto space = [&](std::size_t i) {
      std::size_t k = 0;
      return is_space(decode_utf8(chars[i], k));
    };
    std::size_t i = 0, n = chars.size();
    while (true) {
      while (i < n && space(i)) ++i;
      if (i == n) break;
      if (maxsplit >= 0 && static_cast<int64_t>(parts.size()) == maxsplit) {
        std::size_t e = n;
        while (e > i && space(e - 1)) --e;
        std::size_t from = static_cast<std::size_t>(chars[i].data() - s.data());
        std::size_t to =
            static_cast<std::size_t>(chars[e - 1].data() - s.data()) + chars[e - 1].size();
        parts.push_back(Value::str(std::string(s.substr(from, to - from))));
        break;
      }
      std::size_t b = i;
      while (i < n && !space(i)) ++i;
      std::size_t from = static_cast<std::size_t>(chars[b].data() - s.data());
      std::size_t to =
          static_cast<std::size_t>(chars[i - 1].data() - s.data()) + chars[i - 1].size();
      parts.push_back(Value::str(std::string(s.substr(from, to - from))));
    }
    return Value::list(std::move(parts));
  }
  if (sep.kind() != Kind::kStr) {
    raise("TypeError", std::string("must be str or None, not ") + type_name(sep));
  }
  std::string_view d = sep.as_str();
  if (d.empty()) raise("ValueError", "empty separator");
  std::size_t pos = 0;
  while (maxsplit < 0 || static_cast<int64_t>(parts.size()) < maxsplit) {
    std::size_t at = s.find(d, pos);
    if (at == std::string_view::npos) break;
    parts.push_back(Value::str(std::string(s.substr(pos, at - pos))));
    check_list_size(parts.size());
    pos = at + d.size();
  }
  parts.push_back(Value::str(std::string(s.substr(pos))));
  return Value::list(std::move(parts));
}

Value join(std::string_view sep, const Items& args) {
  arity("join", args, 1, 1);
  const Value& it = args[0];
  if (it.kind() != Kind::kList && it.kind() != Kind::kTuple && it.kind() != Kind::kDict &&
      it.kind() != Kind::kStr) {
    raise("TypeError", "can only join an iterable");
  }
  std::string out;
  std::size_t index = 0;
  iterate(it, [&](const Value& v) {
    if (v.kind() != Kind::kStr) {
      raise("TypeError", "sequence item " + std::to_string(index) + ": expected str instance, " +
                             type_name(v) + " found");
    }
    if (index) out += sep;
    out += v.as_str();
    check_text_size(out.size());
    ++index;
  });
  return Value::str(std::move(out));
}

Value affix(std::string_view s, const Items& args, bool start, const std::string& name) {
  arity(name, args, 1, 1);
  auto test = [&](std::string_view a) {
    return start ? s.substr(0, a.size()) == a
                 : (a.size() <= s.size() && s.substr(s.size() - a.size()) == a);
  };
  const Value& a = args[0];
  if (a.kind() == Kind::kStr) return Value::boolean(test(a.as_str()));
  if (a.kind() == Kind::kTuple) {
    for (std::size_t i = 0; i < a.size(); ++i) {
      Value x = a.item(i);
      if (x.kind() != Kind::kStr) {
        raise("TypeError",
              std::string("tuple for ") + name + " must only contain str, not " + type_name(x));
      }
      if (test(x.as_str())) return Value::boolean(true);
    }
    return Value::boolean(false);
  }
  raise("TypeError", name + " first arg must be str or a tuple of str, not " + type_name(a));
}

}  // namespace

Value call_method(const Node& call, Frame& frame) {
  Value receiver = evaluate(*call.children[0], frame);
  Items args;
  for (std::size_t i = 1; i < call.children.size(); ++i)
    args.push_back(evaluate(*call.children[i], frame));
  const std::string& name = call.name;
  if (receiver.kind() == Kind::kDict && name == "get") {
    arity("get", args, 1, 2);
    Value out;
    if (receiver.dict_find(args[0], out)) return out;
    return args.size() > 1 ? args[1] : Value();
  }
  if (receiver.kind() == Kind::kStr && name != "get") {
    std::string_view s = receiver.as_str();
    if (name == "lower" || name == "upper") {
      arity(name, args, 0, 0);
      std::string out;
      out.reserve(s.size());
      name == "lower" ? append_lower(out, s) : append_upper(out, s);
      return Value::str(std::move(out));
    }
    if (name == "strip") return strip(s, args, true, true, name);
    if (name == "lstrip") return strip(s, args, true, false, name);
    if (name == "rstrip") return strip(s, args, false, true, name);
    if (name == "replace") return replace(s, args);
    if (name == "split") return split(s, call, args);
    if (name == "join") return join(s, args);
    if (name == "startswith") return affix(s, args, true, name);
    if (name == "endswith") return affix(s, args, false, name);
  }
  raise("AttributeError",
        std::string("'") + type_name(receiver) + "' object has no attribute '" + name + "'");
}

}  // namespace webhook::tmpl
