#include "common/metrics_registry.h"

#include <thread>

#include <gtest/gtest.h>

namespace webhook::metrics {
namespace {

bool contains(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

TEST(MetricsRegistryTest, RendersCountersWithHelpTypeAndLabels) {
  MetricsRegistry registry;
  auto& polls = registry.counter("webhook_polls_total", "Polls by result.", {"feed", "result"});
  polls.with({"works", "ok"}).inc();
  polls.with({"works", "ok"}).inc(2);
  polls.with({"works", "failed"}).inc();

  EXPECT_EQ(registry.render(),
            "# HELP webhook_polls_total Polls by result.\n"
            "# TYPE webhook_polls_total counter\n"
            "webhook_polls_total{feed=\"works\",result=\"failed\"} 1\n"
            "webhook_polls_total{feed=\"works\",result=\"ok\"} 3\n");
}

TEST(MetricsRegistryTest, PrefixesNamespaceAndSubsystem) {
  MetricsRegistry both("opencti", "connector");
  both.gauge("webhook_jobs_in_flight", "In flight.").get().set(4);
  EXPECT_TRUE(contains(both.render(), "\nopencti_connector_webhook_jobs_in_flight 4\n"));

  MetricsRegistry only_subsystem("", "sub");
  EXPECT_EQ(only_subsystem.full_name("webhook_x"), "sub_webhook_x");
  MetricsRegistry none;
  EXPECT_EQ(none.full_name("webhook_x"), "webhook_x");
}

TEST(MetricsRegistryTest, RejectsAnInvalidNamespaceNamingTheSetting) {
  try {
    MetricsRegistry registry("open-cti", "");
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_TRUE(contains(e.what(), "CONNECTOR_METRICS_NAMESPACE")) << e.what();
    EXPECT_TRUE(contains(e.what(), "open-cti")) << e.what();
  }
  EXPECT_THROW(MetricsRegistry("", "9lives"), std::invalid_argument);
}

TEST(MetricsRegistryTest, EnforcesNamingConventions) {
  MetricsRegistry registry;
  EXPECT_THROW(registry.counter("webhook_polls", "no suffix"), std::invalid_argument);
  EXPECT_THROW(registry.gauge("webhook-bad", "dash"), std::invalid_argument);
  EXPECT_THROW(registry.gauge("webhook_ok", "bad label", {"__reserved"}), std::invalid_argument);
  EXPECT_THROW(registry.histogram("webhook_h_seconds", "le is reserved", {"le"}, {1}),
               std::invalid_argument);
  EXPECT_THROW(registry.histogram("webhook_h_seconds", "unsorted", {}, {2, 1}),
               std::invalid_argument);
}

TEST(MetricsRegistryTest, RegisteringTwiceReturnsTheSameFamilyOrFails) {
  MetricsRegistry registry;
  auto& first = registry.counter("webhook_items_total", "Items.", {"feed"});
  auto& again = registry.counter("webhook_items_total", "Items.", {"feed"});
  EXPECT_EQ(&first, &again);
  EXPECT_THROW(registry.counter("webhook_items_total", "Items.", {"other"}), std::invalid_argument);
  EXPECT_THROW(registry.gauge("webhook_items_total", "Items."), std::invalid_argument);
}

TEST(MetricsRegistryTest, WrongNumberOfLabelValuesIsAnError) {
  MetricsRegistry registry;
  auto& family = registry.counter("webhook_items_total", "Items.", {"feed"});
  EXPECT_THROW(family.with({}), std::invalid_argument);
  EXPECT_THROW(family.with({"a", "b"}), std::invalid_argument);
}

TEST(MetricsRegistryTest, EscapesLabelValuesAndHelp) {
  MetricsRegistry registry;
  registry.counter("webhook_items_total", "Line one\nback\\slash", {"feed"})
      .with({"quote\" back\\ new\nline"})
      .inc();
  std::string text = registry.render();
  EXPECT_TRUE(contains(text, "# HELP webhook_items_total Line one\\nback\\\\slash\n")) << text;
  EXPECT_TRUE(contains(text, "webhook_items_total{feed=\"quote\\\" back\\\\ new\\nline\"} 1\n"))
      << text;
}

TEST(MetricsRegistryTest, HistogramBucketsAreCumulativeWithInfSumAndCount) {
  MetricsRegistry registry;
  auto& h =
      registry.histogram("webhook_request_duration_seconds", "Call time.", {"feed"}, {0.1, 0.5, 1});
  auto& works = h.with({"works"});
  for (double v : {0.05, 0.1, 0.3, 2.0}) works.observe(v);

  EXPECT_EQ(registry.render(),
            "# HELP webhook_request_duration_seconds Call time.\n"
            "# TYPE webhook_request_duration_seconds histogram\n"
            "webhook_request_duration_seconds_bucket{feed=\"works\",le=\"0.1\"} 2\n"
            "webhook_request_duration_seconds_bucket{feed=\"works\",le=\"0.5\"} 3\n"
            "webhook_request_duration_seconds_bucket{feed=\"works\",le=\"1\"} 3\n"
            "webhook_request_duration_seconds_bucket{feed=\"works\",le=\"+Inf\"} 4\n"
            "webhook_request_duration_seconds_sum{feed=\"works\"} 2.45\n"
            "webhook_request_duration_seconds_count{feed=\"works\"} 4\n");
}

TEST(MetricsRegistryTest, GaugesGoBothWaysAndCountersOnlyUp) {
  MetricsRegistry registry;
  auto& gauge = registry.gauge("webhook_jobs_in_flight", "In flight.").get();
  gauge.inc(3);
  gauge.dec();
  EXPECT_EQ(gauge.value(), 2);
  auto& counter = registry.counter("webhook_dead_jobs_total", "Dead.").get();
  counter.inc(2);
  counter.inc(-5);
  EXPECT_EQ(counter.value(), 2);
}

TEST(MetricsRegistryTest, FormatsValuesAsTheExpositionFormatExpects) {
  EXPECT_EQ(format_value(0), "0");
  EXPECT_EQ(format_value(1234567), "1234567");
  EXPECT_EQ(format_value(0.25), "0.25");
  EXPECT_EQ(format_value(-1.5), "-1.5");
  EXPECT_EQ(format_value(1.0 / 0.0), "+Inf");
  EXPECT_EQ(format_value(-1.0 / 0.0), "-Inf");
  EXPECT_EQ(format_value(0.0 / 0.0), "NaN");
}

TEST(MetricsRegistryTest, ConcurrentUpdatesAreAllCounted) {
  MetricsRegistry registry;
  auto& family = registry.counter("webhook_attempts_total", "Attempts.", {"feed"});
  auto& h = registry.histogram("webhook_poll_duration_seconds", "Polls.", {}, {1});
  constexpr int kThreads = 4;
  constexpr int kEach = 10000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        family.with({i % 2 == 0 ? "a" : "b"}).inc();
        h.get().observe(0.5);
        if (i % 1000 == 0) registry.render();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(family.with({"a"}).value() + family.with({"b"}).value(), kThreads * kEach);
  EXPECT_EQ(h.get().snapshot().count, static_cast<uint64_t>(kThreads * kEach));
}

}  // namespace
}  // namespace webhook::metrics
