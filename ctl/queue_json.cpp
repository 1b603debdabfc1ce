#include "ctl/queue_json.h"

#include "ctl/time_text.h"

namespace webhook::ctl {

using nlohmann::ordered_json;
using store::JobState;

ordered_json time_json(std::optional<int64_t> ms) {
  if (!ms) return nullptr;
  return ordered_json{{"ms", *ms}, {"utc", format_utc(*ms)}};
}

ordered_json poll_json(const store::PollRow& p) {
  const auto& r = p.record;
  return {{"id", p.id},
          {"feed", r.feed},
          {"status", r.ok ? "ok" : "failed"},
          {"started", time_json(r.started_at)},
          {"finished", time_json(r.finished_at)},
          {"window_from", time_json(r.window_from)},
          {"window_to", time_json(r.window_to)},
          {"items_found", r.items_found},
          {"jobs_enqueued", r.jobs_enqueued},
          {"duplicates_skipped", r.duplicates_skipped},
          {"render_errors", r.render_errors},
          {"error", r.error}};
}

ordered_json job_json(const store::JobRow& j) {
  return {
      {"seq", j.seq},
      {"id", j.id},
      {"feed", j.feed},
      {"poll_id", j.poll_id},
      {"state", store::to_string(j.state)},
      {"attempts", j.attempts},
      {"max_attempts", j.max_attempts},
      {"method", j.method},
      {"url", j.url},
      {"headers", j.headers},
      {"body", j.body},
      {"next_attempt", j.state == JobState::kPending ? time_json(j.next_attempt_at) : nullptr},
      {"lease_owner", j.lease_owner.empty() ? ordered_json() : ordered_json(j.lease_owner)},
      {"lease_expires", j.state == JobState::kRunning ? time_json(j.lease_expires_at) : nullptr},
      {"created", time_json(j.created_at)},
      {"updated", time_json(j.updated_at)},
      {"finished", time_json(j.finished_at)},
      {"last_status", j.last_status ? ordered_json(*j.last_status) : ordered_json()},
      {"last_error", j.last_error},
      {"order_key", j.order_key ? ordered_json(*j.order_key) : ordered_json()}};
}

ordered_json blocked_key_json(const store::BlockedKey& k) {
  return {{"feed", k.feed},
          {"order_key", k.order_key},
          {"blocking_seq", k.blocking_seq},
          {"blocking_id", k.blocking_id},
          {"dead_since", time_json(k.dead_since)},
          {"last_error", k.last_error},
          {"waiting", k.waiting}};
}

ordered_json attempt_json(const store::AttemptRow& at) {
  return {{"number", at.number},
          {"started", time_json(at.started_at)},
          {"duration_ms", at.duration_ms},
          {"http_status", at.http_status ? ordered_json(*at.http_status) : ordered_json()},
          {"error", at.error},
          {"response_head", at.response_head},
          {"worker", at.worker}};
}

ordered_json job_detail_json(const store::JobDetail& detail) {
  ordered_json out = job_json(detail.job);
  out["attempt_log"] = ordered_json::array();
  for (const auto& at : detail.attempts) out["attempt_log"].push_back(attempt_json(at));
  return out;
}

ordered_json feed_status_json(const store::FeedStatus& f) {
  ordered_json counts = ordered_json::object();
  for (const auto& [state, n] : f.counts) counts[std::string(store::to_string(state))] = n;
  return {{"feed", f.feed},
          {"cursor", time_json(f.cursor)},
          {"last_poll", f.last_poll ? poll_json(*f.last_poll) : ordered_json()},
          {"counts", counts},
          {"oldest_pending", time_json(f.oldest_pending_created_at)}};
}

nlohmann::ordered_json feed_lease_json(const store::FeedLease& lease, int64_t now_ms) {
  return {{"feed", lease.feed},
          {"holder", lease.holder},
          {"epoch", lease.epoch},
          {"live", lease.expires_at > now_ms},
          {"acquired_at", time_json(lease.acquired_at)},
          {"renewed_at", time_json(lease.renewed_at)},
          {"expires_at", time_json(lease.expires_at)}};
}

}  // namespace webhook::ctl
