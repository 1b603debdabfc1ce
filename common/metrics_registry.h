// Prometheus metrics kept in process memory: counters, gauges and histograms, each a family
// of series told apart by label values, rendered in the text exposition format (0.0.4).
// The registry owns every family and series; references it hands out stay valid for its
// lifetime. Everything here is thread-safe: the loops update, the HTTP thread renders.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace webhook::metrics {

class Counter {
 public:
  // REQUIRES: amount >= 0 (a counter only goes up; a negative amount is ignored).
  void inc(double amount = 1);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Gauge {
 public:
  void set(double value) { value_.store(value, std::memory_order_relaxed); }
  void inc(double amount = 1) { value_.fetch_add(amount, std::memory_order_relaxed); }
  void dec(double amount = 1) { value_.fetch_sub(amount, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  // `bounds`: the buckets' upper bounds, strictly increasing; +Inf is implied.
  explicit Histogram(std::vector<double> bounds);
  void observe(double value);

  struct Snapshot {
    std::vector<double> bounds;
    std::vector<uint64_t> cumulative;  // per bound, then +Inf
    double sum = 0;
    uint64_t count = 0;
  };
  Snapshot snapshot() const;

 private:
  const std::vector<double> bounds_;
  mutable std::mutex mutex_;
  std::vector<uint64_t> counts_;  // per bucket (not cumulative), last is +Inf
  double sum_ = 0;
};

// A metric name with its series, one per combination of label values.
class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, std::vector<std::string> label_names)
      : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)) {}
  virtual ~FamilyBase() = default;

  const std::string& name() const { return name_; }
  const std::vector<std::string>& label_names() const { return label_names_; }
  virtual std::string_view type() const = 0;
  // Appends `# HELP`, `# TYPE` and every series.
  virtual void render(std::string& out) const = 0;

 protected:
  void check_arity(const std::vector<std::string>& label_values) const;
  // `{a="x",b="y"}` (with `extra` appended, e.g. le="0.5"), or empty without labels.
  std::string label_text(const std::vector<std::string>& values, std::string_view extra = {}) const;
  void render_header(std::string& out) const;
  void render_sample(std::string& out, const std::vector<std::string>& labels, double value) const;
  void render_histogram(std::string& out, const std::vector<std::string>& labels,
                        const Histogram::Snapshot& snapshot) const;

 private:
  std::string name_;
  std::string help_;
  std::vector<std::string> label_names_;
};

template <typename Metric>
class Family final : public FamilyBase {
 public:
  Family(std::string name, std::string help, std::vector<std::string> label_names,
         std::vector<double> buckets = {})
      : FamilyBase(std::move(name), std::move(help), std::move(label_names)),
        buckets_(std::move(buckets)) {}

  // The series with these label values, in label_names() order, created on first use.
  // Throws std::invalid_argument when the number of values is wrong.
  Metric& with(const std::vector<std::string>& label_values) {
    check_arity(label_values);
    std::lock_guard lock(mutex_);
    auto& slot = series_[label_values];
    if (!slot) slot = make();
    return *slot;
  }
  // The one series of a family without labels.
  Metric& get() { return with({}); }

  const std::vector<double>& buckets() const { return buckets_; }
  std::string_view type() const override {
    if constexpr (std::is_same_v<Metric, Counter>) return "counter";
    if constexpr (std::is_same_v<Metric, Gauge>) return "gauge";
    if constexpr (std::is_same_v<Metric, Histogram>) return "histogram";
  }

  void render(std::string& out) const override {
    render_header(out);
    std::lock_guard lock(mutex_);
    for (const auto& [labels, metric] : series_) {
      if constexpr (std::is_same_v<Metric, Histogram>) {
        render_histogram(out, labels, metric->snapshot());
      } else {
        render_sample(out, labels, metric->value());
      }
    }
  }

 private:
  std::unique_ptr<Metric> make() const {
    if constexpr (std::is_same_v<Metric, Histogram>) {
      return std::make_unique<Histogram>(buckets_);
    } else {
      return std::make_unique<Metric>();
    }
  }

  std::vector<double> buckets_;
  mutable std::mutex mutex_;
  std::map<std::vector<std::string>, std::unique_ptr<Metric>> series_;
};

class MetricsRegistry {
 public:
  // Content-Type of render()'s output.
  static constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

  // Every name is prefixed with `name_space` and `subsystem`, each followed by `_` when not
  // empty, as Prometheus clients do (CONNECTOR_METRICS_NAMESPACE/_SUBSYSTEM). Throws
  // std::invalid_argument naming the part that is not a valid metric name fragment.
  MetricsRegistry(std::string_view name_space = {}, std::string_view subsystem = {});

  // Registers a family, or returns the one already registered under that name with the same
  // type and labels. Throws std::invalid_argument for an invalid name or label, a counter
  // not ending in `_total`, or a name registered before with another type or labels.
  Family<Counter>& counter(std::string_view name, std::string_view help,
                           std::vector<std::string> label_names = {});
  Family<Gauge>& gauge(std::string_view name, std::string_view help,
                       std::vector<std::string> label_names = {});
  Family<Histogram>& histogram(std::string_view name, std::string_view help,
                               std::vector<std::string> label_names, std::vector<double> buckets);

  // The prefixed name a metric is exposed under.
  std::string full_name(std::string_view name) const { return prefix_ + std::string(name); }

  // Every family, in registration order, in the text exposition format.
  std::string render() const;

 private:
  template <typename Metric>
  Family<Metric>& add(std::string_view name, std::string_view help,
                      std::vector<std::string> label_names, std::vector<double> buckets);

  std::string prefix_;
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<FamilyBase>> families_;
};

// Formats a sample value as the exposition format wants it: integers without a fraction,
// others in shortest round-trip form, `+Inf`, `-Inf`, `NaN`.
std::string format_value(double value);

}  // namespace webhook::metrics
