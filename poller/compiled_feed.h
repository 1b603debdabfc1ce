// One feed's settings with every template compiled: the query, the data and page-info
// locations and the request templates. Built once at start, so that a template that does
// not compile stops the program before any poll. Immutable; safe to share.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/template/template.h"
#include "poller/request_renderer.h"

namespace webhook::poller {

struct CompiledFeed {
  FeedConfig config;
  tmpl::QueryTemplate query;
  tmpl::DataLocation data_location;
  std::optional<tmpl::DataLocation> page_info_location;  // set: follow pageInfo pages
  RequestRenderer renderer;
};

// Compiles every feed of the configuration with compile_feed_templates() (the code
// `webhookctl check-config` runs too). Throws ConfigError with one entry per template that
// does not compile (each with the template and a caret under the column). Risky templates
// that work are added to `warnings` when given, for the log.
std::vector<CompiledFeed> compile_feeds(const std::vector<FeedConfig>& feeds,
                                        std::vector<std::string>* warnings = nullptr);

}  // namespace webhook::poller
