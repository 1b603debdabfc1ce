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

  // Whether rendering reads the item at all. When not (every template is plain text and
  // there is no filter: a stream feed's defaults), render_constant() gives the same job
  // without the item, so a caller need not build it.
  bool needs_item() const { return !constant_.has_value(); }
  // The job render() would return for any item; only when !needs_item(). `event_data` as
  // render()'s.
  store::NewJob render_constant(const std::string* event_data) const;

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
  // The job every item renders to, id and body aside, when no template reads the item and
  // that job is not dead (a dead job's body is the item itself).
  std::optional<store::NewJob> constant_;
};

}  // namespace webhook::poller
