// Turns one item into the webhook request the feed's templates describe: URL (made
// sendable), method, headers and body. An item that cannot be rendered becomes a `dead` job
// carrying the render error and the item itself, so it shows in the history. Immutable
// after compile(); safe to use from several threads.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/config.h"
#include "common/feed_templates.h"
#include "common/store/job_store.h"
#include "common/template/template.h"

namespace webhook::poller {

class RequestRenderer {
 public:
  // Compiles WEBHOOK_URL, WEBHOOK_HEADERS and WEBHOOK_BODY of `feed`. Appends one message
  // per problem to `problems` (the setting, the reason and the template with a caret) and
  // returns nullopt if there was any.
  static std::optional<RequestRenderer> compile(const FeedConfig& feed,
                                                std::vector<std::string>& problems);
  // The same from templates compile_request_templates() made.
  static RequestRenderer from_templates(const FeedConfig& feed, RequestTemplates templates);

  // A pending job with a fresh UUID, or a dead one whose last_error says which template
  // failed and why, and whose body is the item's JSON. With WEBHOOK_ORDER_KEY the job
  // carries the rendered key (a dead one too, when the key itself rendered).
  store::NewJob render(const nlohmann::ordered_json& item) const;
  // The same for a stream event: `extras` are the values of kStreamTemplateNames, and
  // `event_data`, when set, is the body (the data text as received, byte for byte).
  store::NewJob render(const nlohmann::ordered_json& item,
                       std::span<const nlohmann::ordered_json* const> extras,
                       const std::string* event_data) const;

  // WEBHOOK_FILTER on one item: whether it is enqueued. A filter that raises fails the
  // item as a render error does: `job` is then set to the dead job to store.
  struct FilterResult {
    bool pass = true;
    std::optional<store::NewJob> dead;
  };
  FilterResult filter(const nlohmann::ordered_json& item,
                      std::span<const nlohmann::ordered_json* const> extras = {}) const;
  bool has_filter() const { return filter_.has_value(); }

 private:
  RequestRenderer() = default;

  std::string method_;
  int64_t max_attempts_ = 1;
  tmpl::Template url_;
  std::vector<std::pair<std::string, tmpl::Template>> headers_;
  std::optional<tmpl::Template> body_;
  std::optional<tmpl::Template> filter_;
  std::optional<tmpl::Template> order_key_;
  std::vector<std::string> allowed_hosts_;  // WEBHOOK_ALLOWED_HOSTS; empty: any host
};

}  // namespace webhook::poller
