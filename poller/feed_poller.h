// One poll of one feed (DESIGN.md § The poller): ask OpenCTI for the window from
// cursor − overlap, follow pageInfo pages, render each new item, and write the jobs, the
// seen hashes, the poll row and the new cursor in one commit_poll; a failed poll is
// recorded without moving the cursor. A FeedPoller borrows its endpoint, store and clock,
// which must outlive it; it is used by one thread at a time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/store/job_store.h"
#include "poller/compiled_feed.h"
#include "poller/graphql_client.h"

namespace webhook::poller {

enum class PollStatus {
  kOk,         // committed (or, in a dry run, would have been)
  kFailed,     // recorded as failed; the cursor did not move
  kAbandoned,  // stopped by shutdown before the commit; nothing written
  kConflict,   // the cursor moved meanwhile (webhookctl rewind); nothing written
  kLeaseLost,  // the feed's lease was lost meanwhile (another poller has it); nothing written
};

struct PollResult {
  PollStatus status = PollStatus::kOk;
  store::PollRecord record;
  std::vector<store::NewJob> jobs;  // what was (or would be) written
  int pages = 0;
  std::optional<int64_t> poll_id;
  nlohmann::ordered_json first_answer;  // the first page's answer (for check-config)
  bool ok() const { return status == PollStatus::kOk; }
};

class FeedPoller {
 public:
  // `store` may be null for a dry run without a database: the feed is then new (window
  // from now − interval) and nothing is written.
  FeedPoller(const CompiledFeed& feed, GraphqlEndpoint& endpoint, store::JobStore* store,
             const Clock& clock);

  // One poll. With `commit` false nothing is written (--dry-run, check-config). `cancel`
  // is asked during requests; when it says stop, the poll is abandoned whole. With
  // `lease_epoch`, the commit is fenced by that feed lease (kLeaseLost when it no longer
  // holds).
  PollResult poll(const CancelFn& cancel = {}, bool commit = true,
                  std::optional<int64_t> lease_epoch = std::nullopt);

  const std::string& name() const { return feed_.config.name; }
  const CompiledFeed& feed() const { return feed_; }

 private:
  // Fetches every page into `items`; returns the error, empty on success.
  std::string fetch(const std::string& query, const CancelFn& cancel, PollResult& result,
                    std::vector<nlohmann::ordered_json>& items, bool keep_first_answer);
  void render(const std::vector<nlohmann::ordered_json>& items, int64_t window_from,
              PollResult& result, std::vector<std::string>& new_hashes);

  const CompiledFeed& feed_;
  GraphqlEndpoint& endpoint_;
  store::JobStore* store_;
  const Clock& clock_;
  // Where a feed with no stored cursor starts: one interval before this poller's first try,
  // kept across failed tries, so a store or OpenCTI that is down at start skips nothing.
  std::optional<int64_t> new_feed_from_;
};

}  // namespace webhook::poller
