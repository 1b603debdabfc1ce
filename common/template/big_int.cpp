#include "common/template/big_int.h"

#include <cmath>
#include <limits>

#include "common/template/limits.h"
#include "common/template/py_error.h"
#include "common/template/python_operators.h"

namespace webhook::tmpl {
namespace {

const cpp_int& int64_min() {
  static const cpp_int kMin(std::numeric_limits<int64_t>::min());
  return kMin;
}
const cpp_int& int64_max() {
  static const cpp_int kMax(std::numeric_limits<int64_t>::max());
  return kMax;
}

std::size_t bit_length(const cpp_int& magnitude) {
  return magnitude == 0 ? 0 : boost::multiprecision::msb(magnitude) + 1;
}

// `top` (54 bits: 53 + a rounding bit) × 2^exponent, rounded half to even with `sticky`
// telling whether any lower bit was set.
double round_to_double(uint64_t top, bool sticky, long exponent) {
  uint64_t mantissa = top >> 1;
  if ((top & 1) && (sticky || (mantissa & 1))) ++mantissa;
  return std::ldexp(static_cast<double>(mantissa), static_cast<int>(exponent + 1));
}

[[noreturn]] void digit_limit(const std::string& detail) {
  raise("ValueError", "Exceeds the limit (" + std::to_string(kMaxIntStrDigits) +
                          " digits) for integer string conversion" + detail +
                          "; use sys.set_int_max_str_digits() to increase the limit");
}

}  // namespace

Value make_int(cpp_int v) {
  if (v >= int64_min() && v <= int64_max()) return Value::integer(static_cast<int64_t>(v));
  if (bit_length(abs(v)) > kMaxIntBits) {
    raise("OverflowError", "the int would exceed " + std::to_string(kMaxIntBits) +
                               " bits, about 10,000 digits (the template limit)");
  }
  int64_t saturated =
      v < 0 ? std::numeric_limits<int64_t>::min() : std::numeric_limits<int64_t>::max();
  spend_memory(bit_length(abs(v)) / 8 + 16);
  return Value::from_big(std::make_shared<const BigInt>(BigInt{std::move(v)}), saturated);
}

cpp_int big_of(const Value& v) {
  if (v.is_big()) return v.as_big().v;
  if (v.kind() == Kind::kBool) return cpp_int(v.as_bool() ? 1 : 0);
  return cpp_int(v.as_int());
}

std::string big_to_decimal(const cpp_int& v) {
  std::string s = v.str();
  if (s.size() - (v < 0 ? 1 : 0) > kMaxIntStrDigits) digit_limit("");
  return s;
}

std::string big_digits(const cpp_int& magnitude, int base, bool upper) {
  if (base == 10) {
    std::string s = magnitude.str();
    if (s.size() > kMaxIntStrDigits) digit_limit("");
    return s;
  }
  const char* chars = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  unsigned shift = base == 2 ? 1 : base == 8 ? 3 : 4;
  std::string out;
  cpp_int m = magnitude;
  do {
    out += chars[static_cast<unsigned>(m & (base - 1))];
    m >>= shift;
  } while (m != 0);
  return std::string(out.rbegin(), out.rend());
}

cpp_int big_parse(std::string_view digits, int base) {
  if (base == 10 && digits.size() > kMaxIntStrDigits) {
    digit_limit(": value has " + std::to_string(digits.size()) + " digits");
  }
  cpp_int v = 0;
  std::size_t i = 0;
  while (i < digits.size()) {
    std::size_t n = std::min<std::size_t>(15, digits.size() - i);
    uint64_t chunk = 0, scale = 1;
    for (std::size_t k = 0; k < n; ++k) {
      char c = digits[i + k];
      int d = c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
      chunk = chunk * static_cast<uint64_t>(base) + static_cast<uint64_t>(d);
      scale *= static_cast<uint64_t>(base);
    }
    v = v * scale + chunk;
    i += n;
  }
  return v;
}

double big_to_double(const cpp_int& v) {
  cpp_int m = abs(v);
  std::size_t bits = bit_length(m);
  double r;
  if (bits <= 53) {
    r = static_cast<double>(static_cast<uint64_t>(m));
  } else {
    std::size_t shift = bits - 54;
    bool sticky = shift > 0 && boost::multiprecision::lsb(m) < shift;
    r = round_to_double(static_cast<uint64_t>(m >> shift), sticky, static_cast<long>(shift));
  }
  if (std::isinf(r)) raise("OverflowError", "int too large to convert to float");
  return v < 0 ? -r : r;
}

double big_true_divide(const cpp_int& a, const cpp_int& b) {
  bool negative = (a < 0) != (b < 0);
  cpp_int n = abs(a), d = abs(b);
  if (n == 0) return negative ? -0.0 : 0.0;
  long s = 55 - (static_cast<long>(bit_length(n)) - static_cast<long>(bit_length(d)));
  if (s >= 0) {
    n <<= static_cast<unsigned>(s);
  } else {
    d <<= static_cast<unsigned>(-s);
  }
  cpp_int q, r;
  boost::multiprecision::divide_qr(n, d, q, r);
  bool sticky = r != 0;
  std::size_t extra = bit_length(q) - 54;  // q has 55 or 56 bits
  if (boost::multiprecision::lsb(q) < extra) sticky = true;
  double result =
      round_to_double(static_cast<uint64_t>(q >> extra), sticky, static_cast<long>(extra) - s);
  if (std::isinf(result)) raise("OverflowError", "integer division result too large for a float");
  return negative ? -result : result;
}

cpp_int big_from_double(double f) {
  int exponent;
  double m = std::frexp(std::fabs(f), &exponent);
  auto mantissa = static_cast<int64_t>(std::ldexp(m, 53));
  cpp_int v(mantissa);
  if (exponent >= 53) {
    v <<= static_cast<unsigned>(exponent - 53);
  } else {
    v >>= static_cast<unsigned>(53 - exponent);
  }
  return f < 0 ? cpp_int(-v) : v;
}

int big_compare_float(const cpp_int& i, double f) {
  if (std::isnan(f)) return 2;
  if (std::isinf(f)) return f > 0 ? -1 : 1;
  double fl = std::floor(f);
  cpp_int whole = big_from_double(fl);
  if (i < whole) return -1;
  if (i > whole) return 1;
  return f > fl ? -1 : 0;
}

void big_floor_divmod(const cpp_int& a, const cpp_int& b, cpp_int& q, cpp_int& r) {
  boost::multiprecision::divide_qr(a, b, q, r);
  if (r != 0 && ((r < 0) != (b < 0))) {
    q -= 1;
    r += b;
  }
}

Value big_pow(const cpp_int& a, const cpp_int& b) {
  if (b == 0 || a == 1) return Value::integer(1);
  if (a == 0) return Value::integer(0);
  if (a == -1) return Value::integer((b & 1) != 0 ? -1 : 1);
  // |a| >= 2, so the result has at least (bit_length(|a|) - 1) * b + 1 bits.
  std::size_t base_bits = bit_length(abs(a)) - 1;
  if (b > cpp_int(kMaxIntBits) || base_bits * static_cast<std::size_t>(b) >= kMaxIntBits) {
    raise("OverflowError", "the int would exceed " + std::to_string(kMaxIntBits) +
                               " bits, about 10,000 digits (the template limit)");
  }
  return make_int(boost::multiprecision::pow(a, static_cast<unsigned>(b)));
}

// The slow path of binary_op, taken when an operand is a BigInt or a 64-bit result
// overflowed.
Value big_arith(BinaryOp op, const Value& a, const Value& b) {
  cpp_int x = big_of(a), y = big_of(b);
  switch (op) {
    case BinaryOp::kAdd:
      return make_int(x + y);
    case BinaryOp::kSub:
      return make_int(x - y);
    case BinaryOp::kMul:
      if (x != 0 && y != 0 && (msb(abs(x)) + msb(abs(y)) + 2) > kMaxIntBits + 1) {
        return make_int(cpp_int(1) << (kMaxIntBits + 1));  // raises the size limit
      }
      return make_int(x * y);
    case BinaryOp::kDiv:
      if (y == 0) raise("ZeroDivisionError", "division by zero");
      return Value::floating(big_true_divide(x, y));
    case BinaryOp::kFloorDiv:
    case BinaryOp::kMod: {
      if (y == 0) {
        raise("ZeroDivisionError", op == BinaryOp::kMod ? "integer modulo by zero"
                                                        : "integer division or modulo by zero");
      }
      cpp_int q, r;
      big_floor_divmod(x, y, q, r);
      return make_int(op == BinaryOp::kMod ? r : q);
    }
    case BinaryOp::kPow:
      if (y < 0) {
        if (x == 0) raise("ZeroDivisionError", "0.0 cannot be raised to a negative power");
        return Value::floating(float_pow(big_to_double(x), big_to_double(y)));
      }
      return big_pow(x, y);
  }
  return Value();
}

}  // namespace webhook::tmpl
