// The console's HTML pages, each rendered on the server from rows already masked by the
// ConsoleStore; every value is escaped here. One file per page. Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/store/job_store.h"
#include "ctl/console/console_store.h"
#include "ctl/console/page_layout.h"

namespace webhook::ctl::console {

// overview_page.cpp: `/`.
std::string render_overview(const PageContext& ctx, const Overview& overview);

// What `/jobs` lists.
struct JobsView {
  store::JobFilter filter;
  std::vector<store::JobRow> rows;  // at most filter.limit
  bool more = false;                // older rows exist past the last one
  std::vector<std::string> feeds;   // for the feed filter
};
// jobs_page.cpp: `/jobs`.
std::string render_jobs(const PageContext& ctx, const JobsView& view);

// job_page.cpp: `/jobs/{id}`.
std::string render_job(const PageContext& ctx, const store::JobDetail& detail, int64_t now);

// polls_page.cpp: `/polls`.
std::string render_polls(const PageContext& ctx, const std::vector<store::PollRow>& polls,
                         const std::optional<std::string>& feed,
                         const std::vector<std::string>& feeds);

// page_layout's frame around one message, for 4xx answers.
std::string render_message(const PageContext& ctx, int status, const std::string& message);

}  // namespace webhook::ctl::console
