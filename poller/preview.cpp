#include "poller/preview.h"

#include <ostream>

#include "common/json_writer.h"

namespace webhook::poller {
namespace {

using Json = nlohmann::ordered_json;

Json job_json(const std::string& feed, const store::NewJob& job) {
  Json j = {{"feed", feed},
            {"state", job.dead ? "dead" : "pending"},
            {"method", job.method},
            {"url", job.url},
            {"headers", job.headers},
            {"body", job.body},
            {"max_attempts", job.max_attempts}};
  if (job.dead) j["error"] = job.last_error;
  return j;
}

std::string summary(const PollResult& r) {
  const auto& p = r.record;
  if (!r.ok()) return "poll failed: " + p.error;
  return std::to_string(p.items_found) + " items in " + std::to_string(r.pages) +
         " page(s): " + std::to_string(p.jobs_enqueued) + " requests, " +
         std::to_string(p.duplicates_skipped) + " duplicates skipped, " +
         std::to_string(p.render_errors) + " render errors";
}

}  // namespace

int dry_run(const std::vector<std::unique_ptr<FeedPoller>>& feeds, std::ostream& out,
            std::ostream& err) {
  int status = 0;
  for (const auto& feed : feeds) {
    PollResult r = feed->poll({}, /*commit=*/false);
    for (const auto& job : r.jobs) out << write_json(job_json(feed->name(), job)) << "\n";
    err << "feed " << feed->name() << ": " << summary(r) << "\n";
    if (!r.ok()) status = 1;
  }
  return status;
}

int check_config(GraphqlClient& client, const std::vector<std::unique_ptr<FeedPoller>>& feeds,
                 std::ostream& out) {
  out << "configuration: OK (" << feeds.size() << " feed(s), templates compiled)\n";
  GraphqlResponse about = client.about();
  if (!about.ok()) {
    out << "OpenCTI at " << client.display_url() << ": " << about.error << "\n";
    return 1;
  }
  out << "OpenCTI at " << client.display_url() << ": version " << platform_version(about) << "\n";
  int status = 0;
  for (const auto& feed : feeds) {
    PollResult r = feed->poll({}, /*commit=*/false);
    out << "feed " << feed->name() << ": window from " << r.record.window_from << ": " << summary(r)
        << "\n";
    if (!r.ok()) {
      status = 1;
      continue;
    }
    std::string answer = write_json(r.first_answer);
    if (answer.size() > 2000) answer = answer.substr(0, 2000) + "...";
    out << "  answer: " << answer << "\n";
    if (!r.jobs.empty()) {
      out << "  first request: " << write_json(job_json(feed->name(), r.jobs.front())) << "\n";
    } else {
      out << "  no item in this window, so no request to show\n";
    }
  }
  return status;
}

}  // namespace webhook::poller
