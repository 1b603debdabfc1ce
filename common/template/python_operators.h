// Python's operators on Values: arithmetic with int/float promotion, floor division and
// modulo signs, `**`, concatenation and repetition, unary minus, `in`, subscripts, slices
// and iteration, with CPython's error messages. Stateless and thread-safe.
#pragma once

#include <functional>
#include <optional>

#include "common/template/python_value.h"
#include "common/template/syntax_tree.h"

namespace webhook::tmpl {

Value binary_op(BinaryOp op, const Value& a, const Value& b);
Value unary_op(char op, const Value& v);  // '-' or '+'
bool contains(const Value& container, const Value& element);
Value subscript(const Value& object, const Value& index);
Value slice(const Value& object, const Value& lower, const Value& upper, const Value& step);
// Calls `visit` with each element Python's `for` would produce (keys of a dict, characters
// of a string). Throws TypeError for what is not iterable.
void iterate(const Value& v, const std::function<void(const Value&)>& visit);
// The same, stopping as soon as `visit` returns false; returns false when it stopped.
bool iterate_until(const Value& v, const std::function<bool(const Value&)>& visit);
// The elements of an iterable as a vector (for builtins that need them all).
Items to_items(const Value& v);
// Python's float `**`, with its errors (0.0 to a negative power, a complex result).
double float_pow(double x, double y);
// Int arithmetic beyond 64 bits (big_int.cpp): REQUIRES both operands int or bool.
Value big_arith(BinaryOp op, const Value& a, const Value& b);
// Converts a float to an int the way Python's int() does (a BigInt beyond 64 bits).
Value float_to_int(double f);

}  // namespace webhook::tmpl
