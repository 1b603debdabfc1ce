#include "poller/compiled_feed.h"

namespace webhook::poller {

std::vector<CompiledFeed> compile_feeds(const std::vector<FeedConfig>& feeds) {
  std::vector<CompiledFeed> compiled;
  std::vector<std::string> problems;
  for (const auto& feed : feeds) {
    std::size_t before = problems.size();
    tmpl::QueryTemplate query;
    tmpl::DataLocation data_location;
    std::optional<tmpl::DataLocation> page_info;
    try {
      query = tmpl::QueryTemplate::compile(feed.graphql_query);
    } catch (const tmpl::CompileError& e) {
      problems.push_back(describe_compile_error("WEBHOOK_GRAPHQL_QUERY", feed, e));
    }
    try {
      data_location = tmpl::DataLocation::compile(feed.data_location);
    } catch (const tmpl::CompileError& e) {
      problems.push_back(describe_compile_error("WEBHOOK_GRAPHQL_RETURNED_DATA_LOCATION", feed, e));
    }
    if (!feed.page_info_location.empty()) {
      try {
        page_info = tmpl::DataLocation::compile(feed.page_info_location);
      } catch (const tmpl::CompileError& e) {
        problems.push_back(describe_compile_error("WEBHOOK_GRAPHQL_PAGE_INFO_LOCATION", feed, e));
      }
    }
    auto renderer = RequestRenderer::compile(feed, problems);
    if (problems.size() != before || !renderer) continue;
    compiled.push_back(CompiledFeed{feed, std::move(query), std::move(data_location),
                                    std::move(page_info), std::move(*renderer)});
  }
  if (!problems.empty()) throw ConfigError(std::move(problems));
  return compiled;
}

}  // namespace webhook::poller
