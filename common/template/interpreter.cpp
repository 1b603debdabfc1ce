#include "common/template/interpreter.h"

#include "common/template/builtins.h"
#include "common/template/format_spec.h"
#include "common/template/limits.h"
#include "common/template/py_error.h"
#include "common/template/python_operators.h"
#include "common/template/python_repr.h"

namespace webhook::tmpl {
namespace {

bool compare(const std::string& op, const Value& a, const Value& b) {
  switch (op[0]) {
    case '=':
      return equals(a, b);
    case '!':
      return !equals(a, b);
    case '<':
    case '>':
      return ordered_compare(a, b, op);
    case 'i':
      if (op == "in") return contains(b, a);
      if (op == "is") return a.kind() == b.kind() && (a.is_none() || a.as_bool() == b.as_bool());
      return !(a.kind() == b.kind() && (a.is_none() || a.as_bool() == b.as_bool()));  // is not
    case 'n':
      return !contains(b, a);  // not in
    default:
      return false;
  }
}

void bind(const Loop& loop, const Value& v, Frame& frame) {
  if (!loop.unpack) {
    frame.slots[loop.target_slots[0]] = v;
    return;
  }
  std::size_t want = loop.target_slots.size();
  if (v.kind() != Kind::kList && v.kind() != Kind::kTuple && v.kind() != Kind::kStr &&
      v.kind() != Kind::kDict) {
    raise("TypeError", std::string("cannot unpack non-iterable ") + type_name(v) + " object");
  }
  Items items = to_items(v);
  if (items.size() > want) {
    raise("ValueError", "too many values to unpack (expected " + std::to_string(want) + ")");
  }
  if (items.size() < want) {
    raise("ValueError", "not enough values to unpack (expected " + std::to_string(want) + ", got " +
                            std::to_string(items.size()) + ")");
  }
  for (std::size_t i = 0; i < want; ++i) frame.slots[loop.target_slots[i]] = items[i];
}

// false when `visit` asked to stop.
bool run_loops(const Node& node, std::size_t depth, Frame& frame,
               const std::function<bool(const Value&)>& visit) {
  if (depth == node.loops.size()) return visit(evaluate(*node.children[0], frame));
  const Loop& loop = node.loops[depth];
  Value iterable = evaluate(*loop.iterable, frame);
  return iterate_until(iterable, [&](const Value& v) {
    spend_steps(frame, 1);
    bind(loop, v, frame);
    for (const auto& cond : loop.conditions) {
      if (!truthy(evaluate(*cond, frame))) return true;
    }
    return run_loops(node, depth + 1, frame, visit);
  });
}

}  // namespace

void generate(const Node& comprehension, Frame& frame,
              const std::function<bool(const Value&)>& visit) {
  run_loops(comprehension, 0, frame, visit);
}

void spend_steps(Frame& frame, int64_t n) {
  frame.steps += n;
  if (frame.steps > kMaxSteps) {
    raise("RuntimeError", "the template exceeded its budget of " + std::to_string(kMaxSteps) +
                              " loop steps per item");
  }
}

Value evaluate(const Node& node, Frame& frame) {
  switch (node.kind) {
    case NodeKind::kConst:
      return node.value;
    case NodeKind::kLocal:
      return frame.slots[node.op];
    case NodeKind::kSubscript: {
      Value object = evaluate(*node.children[0], frame);
      const Node& index = *node.children[1];
      if (index.kind == NodeKind::kConst) return subscript(object, index.value);
      return subscript(object, evaluate(index, frame));
    }
    case NodeKind::kSlice: {
      Value object = evaluate(*node.children[0], frame);
      Value parts[3];
      for (int i = 0; i < 3; ++i) {
        if (node.children[1 + i]) parts[i] = evaluate(*node.children[1 + i], frame);
      }
      return slice(object, parts[0], parts[1], parts[2]);
    }
    case NodeKind::kBinary: {
      Value a = evaluate(*node.children[0], frame);
      Value b = evaluate(*node.children[1], frame);
      return binary_op(static_cast<BinaryOp>(node.op), a, b);
    }
    case NodeKind::kUnary:
      return unary_op(node.name[0], evaluate(*node.children[0], frame));
    case NodeKind::kNot:
      return Value::boolean(!truthy(evaluate(*node.children[0], frame)));
    case NodeKind::kAnd: {
      Value a = evaluate(*node.children[0], frame);
      return truthy(a) ? evaluate(*node.children[1], frame) : a;
    }
    case NodeKind::kOr: {
      Value a = evaluate(*node.children[0], frame);
      return truthy(a) ? a : evaluate(*node.children[1], frame);
    }
    case NodeKind::kCompare: {
      Value left = evaluate(*node.children[0], frame);
      for (std::size_t i = 0; i < node.compare_ops.size(); ++i) {
        Value right = evaluate(*node.children[i + 1], frame);
        if (!compare(node.compare_ops[i], left, right)) return Value::boolean(false);
        left = std::move(right);
      }
      return Value::boolean(true);
    }
    case NodeKind::kIfElse:
      return truthy(evaluate(*node.children[0], frame)) ? evaluate(*node.children[1], frame)
                                                        : evaluate(*node.children[2], frame);
    case NodeKind::kList:
    case NodeKind::kTuple: {
      Items items;
      items.reserve(node.children.size());
      for (const auto& c : node.children) items.push_back(evaluate(*c, frame));
      return node.kind == NodeKind::kList ? Value::list(std::move(items))
                                          : Value::tuple(std::move(items));
    }
    case NodeKind::kDict: {
      DictEntries entries;
      for (std::size_t i = 0; i + 1 < node.children.size(); i += 2) {
        Value key = evaluate(*node.children[i], frame);
        Value value = evaluate(*node.children[i + 1], frame);
        require_hashable(key);
        spend_work(entries.size());
        bool replaced = false;
        for (auto& [k, v] : entries) {
          if (equals(k, key)) {
            v = value;
            replaced = true;
            break;
          }
        }
        if (!replaced) entries.emplace_back(std::move(key), std::move(value));
      }
      return Value::dict(std::move(entries));
    }
    case NodeKind::kCall:
      return call_builtin(node, frame);
    case NodeKind::kMethod:
      return call_method(node, frame);
    case NodeKind::kComprehension: {
      Items out;
      run_loops(node, 0, frame, [&](const Value& v) {
        check_list_size(out.size() + 1);
        out.push_back(v);
        return true;
      });
      return Value::list(std::move(out));
    }
    case NodeKind::kFormat: {
      std::string out;
      render_parts(*node.parts, frame, out);
      return Value::str(std::move(out));
    }
  }
  raise("SystemError", "unknown syntax node");
}

void render_parts(const std::vector<Part>& parts, Frame& frame, std::string& out) {
  for (const Part& part : parts) {
    if (!part.expr) {
      out += part.literal;
      continue;
    }
    Value v = evaluate(*part.expr, frame);
    if (part.conversion == 'r' || part.conversion == 'a') {
      std::string text;
      append_repr(text, v, part.conversion == 'a');
      v = Value::str(std::move(text));
    } else if (part.conversion == 's' && v.kind() != Kind::kStr) {
      std::string text;
      append_str(text, v);
      v = Value::str(std::move(text));
    }
    if (!part.has_spec) {
      append_str(out, v);
    } else {
      std::string spec;
      render_parts(part.spec, frame, spec);
      append_formatted(out, v, spec);
    }
    check_text_size(out.size());
  }
}

}  // namespace webhook::tmpl
