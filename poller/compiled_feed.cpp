#include "poller/compiled_feed.h"

namespace webhook::poller {

std::vector<CompiledFeed> compile_feeds(const std::vector<FeedConfig>& feeds,
                                        std::vector<std::string>* warnings) {
  std::vector<CompiledFeed> compiled;
  std::vector<std::string> problems;
  for (const auto& feed : feeds) {
    auto templates = compile_feed_templates(feed, problems, warnings);
    if (!templates) continue;
    compiled.push_back(
        CompiledFeed{feed, std::move(templates->query), std::move(templates->data_location),
                     std::move(templates->page_info_location),
                     RequestRenderer::from_templates(feed, std::move(templates->request))});
  }
  if (!problems.empty()) throw ConfigError(std::move(problems));
  return compiled;
}

}  // namespace webhook::poller
