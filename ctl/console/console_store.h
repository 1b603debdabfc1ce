// The console's view of the job store: one JobStore (a single connection) shared by the
// HTTP server's threads under a mutex, and every row passed through the SecretMask before
// it leaves, so no page or API answer can show a secret by forgetting to mask it.
// Thread-safe. Owns the JobStore.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/store/job_store.h"
#include "ctl/console/secret_mask.h"

namespace webhook::ctl::console {

// What the overview shows.
struct Overview {
  std::vector<store::FeedStatus> feeds;
  std::vector<store::HeartbeatRow> heartbeats;
  std::vector<store::AttemptMinute> minutes;  // the last hour
  std::vector<store::BlockedKey> blocked;     // order keys held by a dead job, oldest first
  int64_t now = 0;
};

// The outcome of a repair: the HTTP status to answer and a sentence for the operator.
struct ActionResult {
  int status = 200;
  std::string message;
  int64_t changed = 0;
};

class ConsoleStore {
 public:
  ConsoleStore(std::unique_ptr<store::JobStore> store, SecretMask mask);

  Overview overview(int64_t now);
  // The names of every feed with a cursor or jobs, for the filters.
  std::vector<std::string> feed_names();
  std::vector<store::JobRow> jobs(const store::JobFilter& filter);
  std::optional<store::JobDetail> job(const std::string& id);
  std::vector<store::PollRow> polls(const std::optional<std::string>& feed, int limit);

  // The repairs, with the rules of webhookctl retry/cancel/rewind: only a dead or cancelled
  // job is retried, only a pending or dead one cancelled; 404 for an unknown job, 409 for a job in
  // another state.
  ActionResult retry(const std::string& id, int64_t now);
  ActionResult cancel(const std::string& id, int64_t now);
  ActionResult retry_dead(const std::string& feed, int64_t now);
  // `to` as webhookctl rewind reads it (ctl/feed_rewind.h): 400 for a bad value, 404 for a
  // feed that never polled nor streamed.
  ActionResult rewind(const std::string& feed, const std::string& to, int64_t now);

 private:
  std::mutex mutex_;
  std::unique_ptr<store::JobStore> store_;
  const SecretMask mask_;
};

}  // namespace webhook::ctl::console
