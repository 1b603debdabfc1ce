#include "tests/support/console_seed.h"

#include <algorithm>
#include <stdexcept>

using namespace std::chrono_literals;

namespace webhook::testing {
namespace {

using store::OutcomeKind;

struct Attempt {
  OutcomeKind kind;
  std::optional<int> status;
  std::string error;
  std::string response;
  int64_t duration_ms;
};

std::string commit_one(store::JobStore& store, const std::string& feed, store::NewJob job,
                       int64_t at) {
  store::PollCommit commit;
  commit.poll.feed = feed;
  commit.poll.started_at = at - 180;
  commit.poll.finished_at = at;
  commit.poll.window_from = std::min(store.cursor(feed).value_or(at - 60000), at) - 5000;
  commit.poll.window_to = at;
  commit.poll.items_found = 1;
  commit.poll.jobs_enqueued = 1;
  job.id = store::make_job_id(at);
  commit.jobs.push_back(job);
  commit.seen_hashes.push_back("hash-" + job.id);
  commit.new_cursor = at;
  commit.expected_cursor = store.cursor(feed);
  if (!store.commit_poll(commit)) throw std::runtime_error("seed: commit_poll refused");
  return job.id;
}

// Claims the only due job at each attempt's time and records the attempt.
void attempt(store::JobStore& store, const std::string& worker, int64_t at, const Attempt& a) {
  auto claimed = store.claim(worker, 1, 30s, at);
  if (claimed.size() != 1) throw std::runtime_error("seed: expected one due job");
  store::Outcome o;
  o.job_id = claimed[0].id;
  o.lease_token = claimed[0].lease_token;
  o.attempt_number = claimed[0].attempt_number;
  o.worker = worker;
  o.kind = a.kind;
  o.next_attempt_at = at + 60000;
  o.started_at = at;
  o.duration_ms = a.duration_ms;
  o.http_status = a.status;
  o.error = a.error;
  o.response_head = a.response;
  if (store.record_outcomes(std::span(&o, 1), at + a.duration_ms).applied != 1) {
    throw std::runtime_error("seed: outcome not applied");
  }
}

store::NewJob request(const std::string& url, const std::string& body) {
  store::NewJob j;
  j.method = "POST";
  j.url = url;
  j.headers = {{"Content-Type", "application/json"}, {"User-Agent", "opencti-webhook/0.1"}};
  j.body = body;
  return j;
}

std::string indicator_body(int i) {
  return R"({"id":"indicator--)" + std::to_string(1000 + i) + R"(","name":"Malicious domain )" +
         std::to_string(i) + R"(","pattern":"[domain-name:value = 'bad)" + std::to_string(i) +
         R"(.example']","confidence":80})";
}

void failed_poll(store::JobStore& store, const std::string& feed, int64_t at) {
  store::PollCommit commit;
  commit.poll.feed = feed;
  commit.poll.started_at = at - 30000;
  commit.poll.finished_at = at;
  commit.poll.window_from = std::min(store.cursor(feed).value_or(at), at) - 5000;
  commit.poll.window_to = at;
  commit.poll.ok = false;
  commit.poll.error =
      "GraphQL request failed: HTTP 502 Bad Gateway from https://opencti.example.org/graphql";
  commit.expected_cursor = store.cursor(feed);
  if (!store.commit_poll(commit)) throw std::runtime_error("seed: failed poll refused");
}

}  // namespace

ConsoleSeed seed_console_store(store::JobStore& store, int64_t now) {
  ConsoleSeed seed;
  const int64_t start = now - 58 * 60000;
  const Attempt ok{OutcomeKind::kDelivered, 200, "", R"({"status":"accepted"})", 84};
  // An hour of deliveries for "indicators", a few per minute, some retried once.
  for (int i = 0; i < 44; ++i) {
    int64_t at = start + i * 78000;
    std::string id =
        commit_one(store, "indicators",
                   request("https://hooks.example.org/opencti/indicators?seq=" + std::to_string(i),
                           indicator_body(i)),
                   at);
    if (i % 9 == 4) {
      attempt(store, "dispatcher-1", at + 200,
              {OutcomeKind::kRetry, 503, "HTTP 503", "upstream unavailable", 40});
      attempt(store, "dispatcher-1", at + 60200, ok);
    } else {
      attempt(store, "dispatcher-1", at + 200, ok);
    }
    if (i == 40) seed.delivered_job = id;
  }
  failed_poll(store, "indicators", start + 20 * 60000 + 500);
  // A dead job: the receiver failed every attempt.
  {
    int64_t at = now - 12 * 60000;
    seed.dead_job = commit_one(
        store, "indicators",
        request("https://hooks.example.org/opencti/indicators?seq=99", indicator_body(99)), at);
    attempt(store, "dispatcher-1", at + 100,
            {OutcomeKind::kRetry, 500, "HTTP 500",
             R"({"error":"database is locked","request_id":"7f3a"})", 311});
    attempt(store, "dispatcher-2", at + 60100,
            {OutcomeKind::kRetry, 503, "HTTP 503", "<html><body>Service Unavailable</body></html>",
             25});
    attempt(store, "dispatcher-1", at + 120100,
            {OutcomeKind::kRetry, std::nullopt,
             "Timeout was reached: Operation timed out after 30000 milliseconds", "", 30000});
    attempt(store, "dispatcher-2", at + 180100,
            {OutcomeKind::kDead, 500, "HTTP 500", R"({"error":"database is locked"})", 298});
  }
  // "reports": fewer deliveries, one cancelled job, the markup job and the secret job.
  for (int i = 0; i < 12; ++i) {
    int64_t at = start + 2 * 60000 + i * 270000;
    commit_one(store, "reports",
               request("https://siem.example.net/api/events",
                       R"({"report":"report--)" + std::to_string(i) + R"("})"),
               at);
    attempt(store, "dispatcher-2", at + 300,
            i == 7 ? Attempt{OutcomeKind::kRetry, 429, "HTTP 429", "slow down", 12} : ok);
    if (i == 7) attempt(store, "dispatcher-2", at + 60300, ok);
  }
  {
    int64_t at = now - 6 * 60000;
    store::NewJob markup;
    markup.method = "POST";
    markup.url =
        std::string("https://receiver.example/") + kAttributeMarkup + "?q=" + kScriptMarkup;
    markup.headers = {{"X-Name", std::string(kScriptMarkup) + kAttributeMarkup},
                      {std::string("X-") + kAttributeMarkup, "value"}};
    markup.body = std::string(R"({"name":")") + kAttributeMarkup + kScriptMarkup + "\"}";
    seed.markup_job = commit_one(store, "reports", markup, at);
    attempt(store, "dispatcher-1", at + 50,
            {OutcomeKind::kDead, 400, std::string("HTTP 400 ") + kScriptMarkup,
             std::string("<h1>Bad request</h1>") + kScriptMarkup + kAttributeMarkup, 9});
  }
  {
    int64_t at = now - 5 * 60000;
    store::NewJob secret;
    secret.method = "POST";
    secret.url =
        "https://user:pw-1111@hooks.example.org/in?token=tok-5555&page=2&api_key=key-9876"
        "&client_secret=qs-secret-77";
    secret.headers = {{"Authorization", "Bearer sk-live-4242"},
                      {"Cookie", "session=abc123"},
                      {"X-Api-Key", "key-9876"},
                      {"X-Auth-Token", "tok-5555"},
                      {"X-Password", "pw-1111"},
                      {"X-Client-Secret", "qs-secret-77"},
                      {"X-Trace", "visible-trace-id"}};
    secret.body = R"({"ok":true})";
    seed.secret_job = commit_one(store, "reports", secret, at);
    attempt(store, "dispatcher-2", at + 50, ok);
  }
  {
    int64_t at = now - 4 * 60000;
    std::string cancelled = commit_one(
        store, "reports", request("https://siem.example.net/api/events", R"({"report":"x"})"), at);
    store.cancel(std::span(&cancelled, 1), at + 1000);
  }
  // Still to do: one running, then pending jobs (claimed last so they stay pending).
  {
    int64_t at = now - 90000;
    commit_one(store, "indicators",
               request("https://hooks.example.org/opencti/indicators?seq=100", indicator_body(100)),
               at);
    if (store.claim("dispatcher-1", 1, 10min, at + 10).size() != 1) {
      throw std::runtime_error("seed: running job not claimed");
    }
  }
  for (int i = 0; i < 3; ++i) {
    std::string id = commit_one(
        store, "indicators",
        request("https://hooks.example.org/opencti/indicators?seq=" + std::to_string(101 + i),
                indicator_body(101 + i)),
        now - 60000 + i * 1000);
    if (i == 0) seed.pending_job = id;
  }
  store.heartbeat("poller", "poller-1", now - 4000);
  store.heartbeat("dispatcher", "dispatcher-1", now - 2000);
  store.heartbeat("dispatcher", "dispatcher-2", now - 20 * 60000);
  return seed;
}

}  // namespace webhook::testing
