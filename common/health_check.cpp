#include "common/health_check.h"

#include <algorithm>

#include <optional>

namespace webhook {
namespace {

// How many of a feed's newest polls are looked at for a successful one. Failed polls are
// retried with backoff, so three intervals never hold this many; if they all failed, the
// feed is unhealthy whatever came before.
constexpr int kPollsExamined = 50;

}  // namespace

std::string describe_age(int64_t ms) {
  if (ms < 0) ms = 0;
  int64_t seconds = ms / 1000;
  if (seconds < 60) return std::to_string(seconds) + "s";
  if (seconds < 3600) {
    return std::to_string(seconds / 60) + "m " + std::to_string(seconds % 60) + "s";
  }
  return std::to_string(seconds / 3600) + "h " + std::to_string(seconds % 3600 / 60) + "m";
}

std::vector<PollerHealthRule> poller_health_rules(const Config& config) {
  std::vector<PollerHealthRule> rules;
  for (const auto& feed : config.feeds()) {
    PollerHealthRule rule{feed.name, feed.polling_interval};
    if (feed.source == FeedSource::kStream) {
      rule.stream = true;
      rule.stream_allowance = 3 * std::max(config.duration("WEBHOOK_STREAM_WATCHDOG"),
                                           config.duration("WEBHOOK_STREAM_RECONNECT_MAX"));
    }
    rules.push_back(rule);
  }
  return rules;
}

DispatcherHealthRule dispatcher_health_rule(const Config& config) {
  DispatcherHealthRule rule;
  rule.max_heartbeat_age = config.duration("WEBHOOK_HEALTH_MAX_HEARTBEAT_AGE");
  rule.max_due_delay = config.duration("WEBHOOK_HEALTH_MAX_DUE_DELAY");
  rule.max_pending_age = config.duration("WEBHOOK_HEALTH_MAX_PENDING_AGE");
  return rule;
}

namespace {

void check_stream_feed(store::JobStore& store, const PollerHealthRule& feed, int64_t now_ms,
                       HealthReport& report) {
  const int64_t allowed = feed.stream_allowance.count();
  auto rows = store.list_stream_connections(feed.feed, 1);
  if (rows.empty()) {
    report.healthy = false;
    report.problems.push_back("stream feed " + feed.feed + ": no connection to the stream yet");
    return;
  }
  const store::StreamConnectionRow& c = rows.front();
  if (!c.ended_at) {
    // An open row is also what a killed poller leaves: its heartbeat tells them apart.
    std::optional<int64_t> beat = store.last_heartbeat("poller");
    if (!beat || now_ms - *beat > allowed) {
      report.healthy = false;
      report.problems.push_back("stream feed " + feed.feed +
                                ": its connection is recorded open but the poller's last sign "
                                "of life is " +
                                (beat ? describe_age(now_ms - *beat) + " old" : "missing"));
    } else {
      report.details.push_back("stream feed " + feed.feed + ": connected since " +
                               describe_age(now_ms - c.started_at) + ", at " +
                               (c.last_id.empty() ? c.from_id : c.last_id));
    }
    return;
  }
  if (now_ms - *c.ended_at > allowed) {
    report.healthy = false;
    report.problems.push_back("stream feed " + feed.feed + ": not connected for " +
                              describe_age(now_ms - *c.ended_at) +
                              "; the last connection ended: " + c.end_reason);
  } else {
    report.details.push_back("stream feed " + feed.feed + ": reconnecting (" + c.end_reason + ")");
  }
}

}  // namespace

HealthReport check_poller_health(store::JobStore& store, const std::vector<PollerHealthRule>& feeds,
                                 int64_t now_ms, int intervals) {
  HealthReport report;
  for (const auto& feed : feeds) {
    if (feed.stream) {
      check_stream_feed(store, feed, now_ms, report);
      continue;
    }
    const int64_t allowed = feed.polling_interval.count() * intervals;
    std::vector<store::PollRow> polls = store.list_polls(feed.feed, kPollsExamined);
    std::optional<store::PollRow> last_ok;
    std::optional<store::PollRow> last_failed;
    for (const auto& row : polls) {
      if (row.record.ok) {
        if (!last_ok || row.record.finished_at > last_ok->record.finished_at) last_ok = row;
      } else if (!last_failed || row.record.finished_at > last_failed->record.finished_at) {
        last_failed = row;
      }
    }
    std::string why_failing;
    if (last_failed &&
        (!last_ok || last_failed->record.finished_at > last_ok->record.finished_at)) {
      why_failing = "; last poll failed " + describe_age(now_ms - last_failed->record.finished_at) +
                    " ago: " + last_failed->record.error;
    }
    if (!last_ok) {
      report.healthy = false;
      report.problems.push_back(
          "feed " + feed.feed + ": no successful poll" +
          (polls.empty() ? " yet" : " in the last " + std::to_string(polls.size()) + " polls") +
          why_failing);
      continue;
    }
    int64_t age = now_ms - last_ok->record.finished_at;
    if (age > allowed) {
      report.healthy = false;
      report.problems.push_back("feed " + feed.feed + ": last successful poll " +
                                describe_age(age) + " ago, more than " + std::to_string(intervals) +
                                " polling intervals (" + describe_age(allowed) + ")" + why_failing);
    } else {
      report.details.push_back("feed " + feed.feed + ": last successful poll " + describe_age(age) +
                               " ago");
    }
  }
  return report;
}

void describe_feed_leases(store::JobStore& store, const std::string& holder, int64_t now_ms,
                          HealthReport& report) {
  if (holder.empty()) return;
  for (const store::FeedLease& lease : store.feed_leases()) {
    const bool live = lease.expires_at > now_ms;
    const std::string epoch = " (epoch " + std::to_string(lease.epoch) + ")";
    if (lease.holder == holder && live) {
      report.details.push_back("feed " + lease.feed + ": active, this poller holds the lease" +
                               epoch);
    } else if (live) {
      report.details.push_back("feed " + lease.feed + ": standing by; " + lease.holder +
                               " holds the lease" + epoch);
    } else {
      report.details.push_back("feed " + lease.feed +
                               ": standing by; the lease is free, a poller takes it shortly" +
                               epoch);
    }
  }
}

HealthReport check_dispatcher_health(store::JobStore& store, const DispatcherHealthRule& rule,
                                     int64_t now_ms) {
  HealthReport report;
  std::optional<int64_t> beat = store.last_heartbeat("dispatcher");
  if (!beat) {
    report.healthy = false;
    report.problems.push_back("no dispatcher heartbeat recorded yet");
  } else if (now_ms - *beat > rule.max_heartbeat_age.count()) {
    report.healthy = false;
    report.problems.push_back("dispatcher heartbeat " + describe_age(now_ms - *beat) +
                              " old, more than " + describe_age(rule.max_heartbeat_age.count()));
  } else {
    report.details.push_back("dispatcher heartbeat " + describe_age(now_ms - *beat) + " ago");
  }

  if (std::optional<int64_t> due = store.next_due_at(); due && now_ms - *due > 0) {
    int64_t late = now_ms - *due;
    if (late > rule.max_due_delay.count()) {
      report.healthy = false;
      report.problems.push_back("a pending job has been due for " + describe_age(late) +
                                " without being claimed (limit " +
                                describe_age(rule.max_due_delay.count()) + ")");
    } else {
      report.details.push_back("oldest due job waiting " + describe_age(late));
    }
  }

  if (rule.max_pending_age.count() > 0) {
    for (const auto& feed : store.status()) {
      if (!feed.oldest_pending_created_at) continue;
      int64_t age = now_ms - *feed.oldest_pending_created_at;
      if (age > rule.max_pending_age.count()) {
        report.healthy = false;
        report.problems.push_back(
            "feed " + feed.feed + ": a job has been pending for " + describe_age(age) + " (limit " +
            describe_age(rule.max_pending_age.count()) + "); is the receiver failing?");
      }
    }
  }
  return report;
}

}  // namespace webhook
