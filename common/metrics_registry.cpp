#include "common/metrics_registry.h"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace webhook::metrics {
namespace {

bool valid_name(std::string_view name, bool allow_colon) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (allow_colon && c == ':') || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

std::string escape(std::string_view text, bool quotes) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quotes && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::string format_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  // Counts and seconds that happen to be whole read better without an exponent.
  if (value == std::trunc(value) && std::fabs(value) < 9.0e15) {
    return std::to_string(static_cast<long long>(value));
  }
  char buffer[64];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, end);
}

void Counter::inc(double amount) {
  if (amount > 0) value_.fetch_add(amount, std::memory_order_relaxed);
}

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double value) {
  // Buckets are "less than or equal": the first bound not below the value counts it.
  auto it = std::lower_bound(bounds_.begin(), bounds_.end(), value);
  size_t index = static_cast<size_t>(it - bounds_.begin());
  std::lock_guard lock(mutex_);
  counts_[index] += 1;
  sum_ += value;
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  s.bounds = bounds_;
  std::lock_guard lock(mutex_);
  uint64_t running = 0;
  for (uint64_t c : counts_) {
    running += c;
    s.cumulative.push_back(running);
  }
  s.count = running;
  s.sum = sum_;
  return s;
}

void FamilyBase::check_arity(const std::vector<std::string>& label_values) const {
  if (label_values.size() != label_names_.size()) {
    throw std::invalid_argument("metric " + name_ + " takes " +
                                std::to_string(label_names_.size()) + " label values, got " +
                                std::to_string(label_values.size()));
  }
}

std::string FamilyBase::label_text(const std::vector<std::string>& values,
                                   std::string_view extra) const {
  if (values.empty() && extra.empty()) return {};
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += label_names_[i] + "=\"" + escape(values[i], true) + "\"";
  }
  if (!extra.empty()) {
    if (!values.empty()) out += ',';
    out += extra;
  }
  out += '}';
  return out;
}

void FamilyBase::render_header(std::string& out) const {
  out += "# HELP " + name_ + " " + escape(help_, false) + "\n";
  out += "# TYPE " + name_ + " " + std::string(type()) + "\n";
}

void FamilyBase::render_sample(std::string& out, const std::vector<std::string>& labels,
                               double value) const {
  out += name_ + label_text(labels) + " " + format_value(value) + "\n";
}

void FamilyBase::render_histogram(std::string& out, const std::vector<std::string>& labels,
                                  const Histogram::Snapshot& s) const {
  for (size_t i = 0; i <= s.bounds.size(); ++i) {
    std::string le = i < s.bounds.size() ? format_value(s.bounds[i]) : "+Inf";
    out += name_ + "_bucket" + label_text(labels, "le=\"" + le + "\"") + " " +
           std::to_string(s.cumulative[i]) + "\n";
  }
  out += name_ + "_sum" + label_text(labels) + " " + format_value(s.sum) + "\n";
  out += name_ + "_count" + label_text(labels) + " " + std::to_string(s.count) + "\n";
}

MetricsRegistry::MetricsRegistry(std::string_view name_space, std::string_view subsystem) {
  for (auto [part, setting] : {std::pair{name_space, "CONNECTOR_METRICS_NAMESPACE"},
                               std::pair{subsystem, "CONNECTOR_METRICS_SUBSYSTEM"}}) {
    if (part.empty()) continue;
    if (!valid_name(part, true)) {
      throw std::invalid_argument(std::string(setting) + ": '" + std::string(part) +
                                  "' is not a valid metric name prefix (letters, digits, _ "
                                  "and :, not starting with a digit)");
    }
    prefix_ += std::string(part) + "_";
  }
}

template <typename Metric>
Family<Metric>& MetricsRegistry::add(std::string_view name, std::string_view help,
                                     std::vector<std::string> label_names,
                                     std::vector<double> buckets) {
  std::string full = full_name(name);
  if (!valid_name(name, true)) {
    throw std::invalid_argument("invalid metric name '" + std::string(name) + "'");
  }
  for (const auto& label : label_names) {
    if (!valid_name(label, false) || label.starts_with("__") ||
        (std::is_same_v<Metric, Histogram> && label == "le")) {
      throw std::invalid_argument("metric " + full + ": invalid label name '" + label + "'");
    }
  }
  if (!std::is_sorted(buckets.begin(), buckets.end()) ||
      std::adjacent_find(buckets.begin(), buckets.end()) != buckets.end()) {
    throw std::invalid_argument("metric " + full + ": bucket bounds must increase strictly");
  }

  std::lock_guard lock(mutex_);
  for (const auto& family : families_) {
    if (family->name() != full) continue;
    auto* same = dynamic_cast<Family<Metric>*>(family.get());
    if (same == nullptr || same->label_names() != label_names) {
      throw std::invalid_argument("metric " + full +
                                  " is already registered with another type or labels");
    }
    return *same;
  }
  auto family = std::make_unique<Family<Metric>>(full, std::string(help), std::move(label_names),
                                                 std::move(buckets));
  Family<Metric>& result = *family;
  families_.push_back(std::move(family));
  return result;
}

Family<Counter>& MetricsRegistry::counter(std::string_view name, std::string_view help,
                                          std::vector<std::string> label_names) {
  // The exposition format's convention, which PromQL's rate() users rely on.
  if (!name.ends_with("_total")) {
    throw std::invalid_argument("counter '" + std::string(name) + "' must end in _total");
  }
  return add<Counter>(name, help, std::move(label_names), {});
}

Family<Gauge>& MetricsRegistry::gauge(std::string_view name, std::string_view help,
                                      std::vector<std::string> label_names) {
  return add<Gauge>(name, help, std::move(label_names), {});
}

Family<Histogram>& MetricsRegistry::histogram(std::string_view name, std::string_view help,
                                              std::vector<std::string> label_names,
                                              std::vector<double> buckets) {
  if (buckets.empty()) {
    throw std::invalid_argument("histogram '" + std::string(name) + "' needs buckets");
  }
  return add<Histogram>(name, help, std::move(label_names), std::move(buckets));
}

std::string MetricsRegistry::render() const {
  std::string out;
  std::lock_guard lock(mutex_);
  for (const auto& family : families_) family->render(out);
  return out;
}

}  // namespace webhook::metrics
