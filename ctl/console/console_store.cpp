#include "ctl/console/console_store.h"

#include "ctl/feed_rewind.h"
#include "ctl/time_text.h"

namespace webhook::ctl::console {
namespace {

constexpr int64_t kHourMs = 3'600'000;
constexpr int kBlockedKeysShown = 50;

std::string state_text(store::JobState state) { return std::string(store::to_string(state)); }

}  // namespace

ConsoleStore::ConsoleStore(std::unique_ptr<store::JobStore> store, SecretMask mask)
    : store_(std::move(store)), mask_(std::move(mask)) {}

Overview ConsoleStore::overview(int64_t now) {
  Overview o;
  o.now = now;
  {
    std::lock_guard lock(mutex_);
    o.feeds = store_->status();
    o.heartbeats = store_->heartbeats();
    // From the start of the minute an hour ago, so the chart has 60 whole minutes.
    o.minutes = store_->attempts_per_minute((now - kHourMs) / 60000 * 60000 + 60000);
    o.blocked = store_->blocked_keys(std::nullopt, kBlockedKeysShown);
  }
  for (auto& f : o.feeds) {
    if (f.last_poll) f.last_poll = mask_.poll(*f.last_poll);
  }
  for (auto& k : o.blocked) {
    k.order_key = mask_.text(k.order_key);
    k.last_error = mask_.text(k.last_error);
  }
  return o;
}

std::vector<std::string> ConsoleStore::feed_names() {
  std::vector<store::FeedStatus> feeds;
  {
    std::lock_guard lock(mutex_);
    feeds = store_->status();
  }
  std::vector<std::string> names;
  for (const auto& f : feeds) names.push_back(f.feed);
  return names;
}

std::vector<store::JobRow> ConsoleStore::jobs(const store::JobFilter& filter) {
  std::vector<store::JobRow> rows;
  {
    std::lock_guard lock(mutex_);
    rows = store_->list_jobs(filter);
  }
  for (auto& r : rows) r = mask_.job(std::move(r));
  return rows;
}

std::optional<store::JobDetail> ConsoleStore::job(const std::string& id) {
  std::optional<store::JobDetail> detail;
  {
    std::lock_guard lock(mutex_);
    detail = store_->job(id);
  }
  if (!detail) return detail;
  detail->job = mask_.job(std::move(detail->job));
  for (auto& a : detail->attempts) a = mask_.attempt(std::move(a));
  return detail;
}

std::vector<store::PollRow> ConsoleStore::polls(const std::optional<std::string>& feed, int limit) {
  std::vector<store::PollRow> rows;
  {
    std::lock_guard lock(mutex_);
    rows = store_->list_polls(feed, limit);
  }
  for (auto& r : rows) r = mask_.poll(std::move(r));
  return rows;
}

ActionResult ConsoleStore::retry(const std::string& id, int64_t now) {
  std::lock_guard lock(mutex_);
  auto detail = store_->job(id);
  if (!detail) return {404, "no job " + id};
  auto state = detail->job.state;
  if (state != store::JobState::kDead && state != store::JobState::kCancelled) {
    return {409, "job " + id + " is " + state_text(state) +
                     "; only dead or cancelled jobs can be retried"};
  }
  std::string job_id = detail->job.id;
  int n = store_->requeue(std::span(&job_id, 1), now);
  if (n != 1) return {409, "job " + id + " changed meanwhile; nothing was retried"};
  return {200, "job requeued: it is pending and due now", 1};
}

ActionResult ConsoleStore::cancel(const std::string& id, int64_t now) {
  std::lock_guard lock(mutex_);
  auto detail = store_->job(id);
  if (!detail) return {404, "no job " + id};
  if (detail->job.state != store::JobState::kPending &&
      detail->job.state != store::JobState::kDead) {
    return {409, "job " + id + " is " + state_text(detail->job.state) +
                     "; only pending or dead jobs can be cancelled"};
  }
  std::string job_id = detail->job.id;
  int n = store_->cancel(std::span(&job_id, 1), now);
  if (n != 1) return {409, "job " + id + " changed meanwhile; nothing was cancelled"};
  return {200, "job cancelled", 1};
}

ActionResult ConsoleStore::retry_dead(const std::string& feed, int64_t now) {
  std::lock_guard lock(mutex_);
  int n = store_->requeue_dead(feed, now);
  return {200, "requeued " + std::to_string(n) + " dead job(s) of feed " + feed, n};
}

ActionResult ConsoleStore::rewind(const std::string& feed, const std::string& to, int64_t now) {
  std::lock_guard lock(mutex_);
  RewindOutcome r = rewind_feed(*store_, feed, to, "to", now);
  switch (r.result) {
    case RewindOutcome::Result::kMoved:
      return {200, r.message, 1};
    case RewindOutcome::Result::kBadValue:
      return {400, r.message};
    case RewindOutcome::Result::kNoFeed:
      break;
  }
  return {404, r.message};
}

}  // namespace webhook::ctl::console
