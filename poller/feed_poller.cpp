#include "poller/feed_poller.h"

#include <new>
#include <string_view>
#include <unordered_set>
#include <utility>

#include "common/logging.h"
#include "poller/job_id.h"

namespace webhook::poller {
namespace {

using Json = nlohmann::ordered_json;

// DESIGN.md: a missing key, null, an empty list or an empty string means no items; a list
// is one item per element; anything else is one item.
void collect_items(Json* data, std::vector<Json>& items) {
  if (data == nullptr || data->is_null()) return;
  if (data->is_array()) {
    for (auto& element : *data) items.push_back(std::move(element));
  } else if (!(data->is_string() && data->get_ref<const std::string&>().empty())) {
    items.push_back(std::move(*data));
  }
}

}  // namespace

FeedPoller::FeedPoller(const CompiledFeed& feed, GraphqlEndpoint& endpoint, store::JobStore* store,
                       const Clock& clock)
    : feed_(feed),
      endpoint_(endpoint),
      store_(store),
      clock_(clock),
      // From when this poller exists, not from its first poll: a poller standing by for the
      // feed's lease (or waiting for its store) skips nothing made meanwhile.
      new_feed_from_(clock.now_ms() - feed.config.polling_interval.count()) {}

PollResult FeedPoller::poll(const CancelFn& cancel, bool commit,
                            std::optional<int64_t> lease_epoch) {
  PollResult result;
  store::PollRecord& record = result.record;
  record.feed = name();
  record.started_at = clock_.now_ms();
  std::optional<int64_t> stored = store_ != nullptr ? store_->cursor(name()) : std::nullopt;
  int64_t cursor = stored.value_or(*new_feed_from_);
  record.window_from = cursor - feed_.config.poll_overlap.count();

  std::string error;
  std::vector<Json> items;
  std::vector<std::string> new_hashes;
  try {
    tmpl::RenderResult query = feed_.query.render(record.window_from);
    record.window_to = clock_.now_ms();  // the new cursor: when the query is sent
    if (record.window_to < cursor) {
      // The clock went back, or the cursor was set in the future: never move it backwards.
      log_event(spdlog::level::warn, "the cursor is ahead of this host's clock",
                {{"feed", name()}, {"cursor", cursor}, {"now", record.window_to}});
      record.window_to = cursor;
    }
    if (!query.ok()) {
      error = "WEBHOOK_GRAPHQL_QUERY: " + query.error;
    } else {
      error = fetch(query.text, cancel, result, items, /*keep_first_answer=*/!commit);
    }
    if (result.status == PollStatus::kAbandoned) return result;
    if (error.empty()) render(items, record.window_from, result, new_hashes);
  } catch (const std::exception& e) {
    // Whatever stopped this poll (out of memory on a huge window, a library's exception)
    // is recorded as its failure, with the cursor kept, rather than lost with the poll.
    // Free what it held first, so that recording it needs little memory.
    std::vector<Json>().swap(items);
    std::vector<store::NewJob>().swap(result.jobs);
    std::vector<std::string>().swap(new_hashes);
    result.first_answer = nullptr;
    record.items_found = record.jobs_enqueued = record.duplicates_skipped = 0;
    record.render_errors = 0;
    if (record.window_to == 0) record.window_to = record.window_from;
    error = dynamic_cast<const std::bad_alloc*>(&e) != nullptr
                ? "the poll ran out of memory (std::bad_alloc) after " +
                      std::to_string(result.pages) +
                      " page(s); lower WEBHOOK_GRAPHQL_MAX_POLL_BYTES or the query's page size"
                : std::string("the poll stopped on an unexpected error: ") + e.what();
    result.status = PollStatus::kFailed;
  }
  record.ok = error.empty();
  record.error = error;
  if (!record.ok) result.status = PollStatus::kFailed;
  record.finished_at = clock_.now_ms();
  if (!commit || store_ == nullptr) return result;

  store::PollCommit c;
  c.poll = record;
  c.jobs = std::move(result.jobs);
  c.seen_hashes = std::move(new_hashes);
  c.forget_seen_before = record.window_from;
  if (record.ok) c.new_cursor = record.window_to;
  c.expected_cursor = stored;
  c.dead_blocks_key = feed_.config.order_dead_blocks;
  c.coalesce = feed_.config.coalesce;
  c.lease_epoch = lease_epoch;
  try {
    result.poll_id = store_->commit_poll(c);
  } catch (const store::LeaseLostError& e) {
    // Thrown away whole: the feed's new holder polls this window from the stored cursor.
    result.status = PollStatus::kLeaseLost;
    result.record.error = e.what();
    result.jobs = std::move(c.jobs);
    return result;
  }
  result.jobs = std::move(c.jobs);
  if (!result.poll_id) result.status = PollStatus::kConflict;
  return result;
}

std::string FeedPoller::fetch(const std::string& query, const CancelFn& cancel, PollResult& result,
                              std::vector<Json>& items, bool keep_first_answer) {
  const bool paginated = feed_.page_info_location.has_value();
  Json after = nullptr;
  int64_t poll_bytes = 0;  // of every page so far
  while (true) {
    Json variables = paginated ? Json{{"after", after}} : Json::object();
    GraphqlResponse response = endpoint_.execute(query, variables, cancel);
    if (response.cancelled) {
      result.status = PollStatus::kAbandoned;
      return response.error;
    }
    if (!response.ok()) {
      return result.pages == 0 ? response.error
                               : "page " + std::to_string(result.pages + 1) + ": " + response.error;
    }
    ++result.pages;
    poll_bytes += response.body_bytes;
    if (poll_bytes > feed_.config.max_poll_bytes) {
      return "the answers of this poll passed " + std::to_string(feed_.config.max_poll_bytes) +
             " bytes (WEBHOOK_GRAPHQL_MAX_POLL_BYTES) at page " + std::to_string(result.pages) +
             " (" + std::to_string(poll_bytes) +
             " bytes); raise it, or narrow the query or its page size";
    }
    if (keep_first_answer && result.pages == 1) result.first_answer = response.document;

    Json page_info;
    if (paginated) {
      const Json* info = feed_.page_info_location->select(response.document);
      if (info == nullptr || !info->is_object()) {
        return "WEBHOOK_GRAPHQL_PAGE_INFO_LOCATION " + feed_.page_info_location->source() +
               " finds no pageInfo object in the answer; the query must ask for "
               "pageInfo { endCursor hasNextPage }";
      }
      page_info = *info;
    }
    // The document is ours: move the items out instead of copying them.
    collect_items(const_cast<Json*>(feed_.data_location.select(response.document)), items);
    if (!paginated) return {};

    auto has_next = page_info.find("hasNextPage");
    if (has_next == page_info.end() || !has_next->is_boolean() || !has_next->get<bool>()) {
      return {};
    }
    Json end_cursor = page_info.value("endCursor", Json());
    if (!end_cursor.is_string() || end_cursor.get_ref<const std::string&>().empty() ||
        end_cursor == after) {
      log_event(spdlog::level::warn, "hasNextPage is true but endCursor does not move; stopping",
                {{"feed", name()}, {"pages", result.pages}});
      return {};
    }
    if (result.pages >= feed_.config.max_pages) {
      log_event(spdlog::level::warn,
                "more pages than WEBHOOK_GRAPHQL_MAX_PAGES; the rest of the window is not "
                "fetched in this poll",
                {{"feed", name()}, {"pages", result.pages}});
      return {};
    }
    after = std::move(end_cursor);
  }
}

void FeedPoller::render(const std::vector<Json>& items, int64_t window_from, PollResult& result,
                        std::vector<std::string>& new_hashes) {
  store::PollRecord& record = result.record;
  std::unordered_set<std::string> seen;
  if (store_ != nullptr) seen = store_->seen_since(name(), window_from);
  std::unordered_set<std::string_view> hashes;  // views of new_hashes' strings
  hashes.reserve(items.size());
  new_hashes.reserve(items.size());
  std::unordered_set<std::string> requests;  // WEBHOOK_IGNORE_DUPLICATES
  record.items_found = static_cast<int64_t>(items.size());
  result.jobs.reserve(items.size());
  for (const auto& item : items) {
    std::string hash = item_hash(item);
    if (seen.count(hash) != 0) {
      ++record.duplicates_skipped;  // enqueued by an earlier poll of the overlap
      continue;
    }
    if (!hashes.contains(hash)) {
      // new_hashes was reserved for every item, never reallocates, so the views stay valid.
      new_hashes.push_back(std::move(hash));
      hashes.insert(new_hashes.back());
    }
    store::NewJob job = feed_.renderer.render(item);
    if (!job.dead && feed_.config.ignore_duplicates) {
      std::string key = job.method + '\n' + job.url + '\n' +
                        job.headers.dump(-1, ' ', false, Json::error_handler_t::replace) + '\n' +
                        job.body + '\n' + job.order_key.value_or("");
      if (!requests.insert(std::move(key)).second) {
        ++record.duplicates_skipped;
        continue;
      }
    }
    if (job.dead) {
      ++record.render_errors;
      log_event(spdlog::level::warn, "an item could not be rendered; stored as a dead job",
                {{"feed", name()}, {"job_id", job.id}, {"error", job.last_error}});
    } else {
      ++record.jobs_enqueued;
    }
    result.jobs.push_back(std::move(job));
  }
}

}  // namespace webhook::poller
