// The dispatch loop against a real SQLite store and a real receiver on loopback.
#include "dispatcher/dispatch_loop.h"

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <set>

#include "tests/dispatcher/dispatch_harness.h"
#include "tests/support/child_process.h"
#include "tests/support/test_receiver.h"

namespace webhook::dispatcher_test {
namespace {

using testing::Reply;
using testing::Script;
using testing::TestReceiver;

// Gaps between consecutive attempts' start times, from the attempt log.
std::vector<int64_t> attempt_gaps(const store::JobDetail& detail) {
  std::vector<int64_t> gaps;
  for (std::size_t i = 1; i < detail.attempts.size(); ++i) {
    gaps.push_back(detail.attempts[i].started_at - detail.attempts[i - 1].started_at);
  }
  return gaps;
}

// Backoff jitter that takes its extremes in turn: the low end, then the high end.
std::function<double()> alternating_jitter() {
  auto calls = std::make_shared<int>(0);
  return [calls] { return (*calls)++ % 2 == 0 ? 0.0 : 0.999; };
}

TEST(DispatchLoop, DeliversOnTwoHundredWithTheJobsRequest) {
  TestReceiver receiver;
  receiver.set_script("/hook", Script::always(Reply::status_only(204)));
  DispatchHarness harness;
  JobSpec spec;
  spec.url = receiver.url("/hook?x=1&y=caf%C3%A9");
  spec.method = "POST";
  spec.headers = {{"Content-Type", "application/json"}, {"X-Custom", "v1"}};
  spec.body = R"({"hello":"world"})";
  const std::string id = enqueue_one(harness.store(), spec);

  harness.start(test_settings());
  ASSERT_TRUE(harness.wait_for_state(id, JobState::kDelivered));
  auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 1u);
  const auto& request = requests.front();
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.target, "/hook?x=1&y=caf%C3%A9");
  EXPECT_EQ(request.body, spec.body);
  EXPECT_EQ(request.header("Content-Type"), "application/json");
  EXPECT_EQ(request.header("X-Custom"), "v1");
  EXPECT_EQ(request.header("User-Agent"), "opencti-webhook/" WEBHOOK_VERSION);
  EXPECT_EQ(request.header("Idempotency-Key"), id);
  EXPECT_EQ(request.header("webhook-id"), id);
  EXPECT_EQ(request.header("webhook-signature"), "");  // no secret configured
  EXPECT_EQ(request.header("Expect"), "");

  auto detail = harness.job(id);
  ASSERT_EQ(detail->attempts.size(), 1u);
  EXPECT_EQ(detail->attempts[0].http_status, 204);
  EXPECT_EQ(detail->attempts[0].worker, "test-dispatcher");
  EXPECT_EQ(detail->job.attempts, 1);
}

TEST(DispatchLoop, EveryMethodCarriesItsBodyAndNoInventedContentType) {
  TestReceiver receiver;
  DispatchHarness harness;
  std::vector<JobSpec> specs;
  for (const char* method : {"GET", "POST", "PUT", "PATCH"}) {
    JobSpec spec;
    spec.url = receiver.url(std::string("/") + method);
    spec.method = method;
    spec.body = std::string(method) == "GET" ? "" : std::string("body of ") + method;
    specs.push_back(spec);
  }
  auto ids = enqueue(harness.store(), specs);
  harness.start(test_settings());
  for (const auto& id : ids) ASSERT_TRUE(harness.wait_for_state(id, JobState::kDelivered));
  for (const auto& spec : specs) {
    auto requests = receiver.requests_to("/" + spec.method);
    ASSERT_EQ(requests.size(), 1u) << spec.method;
    EXPECT_EQ(requests[0].method, spec.method);
    EXPECT_EQ(requests[0].body, spec.body);
    EXPECT_EQ(requests[0].header("Content-Type"), "") << spec.method;
  }
}

// One request at a time, so every job after the first goes out on the easy handle the one
// before it used: each must send its own method and body, never the previous job's.
TEST(DispatchLoop, AReusedHandleCarriesNothingOfThePreviousJob) {
  TestReceiver receiver;
  DispatchHarness harness;
  const std::vector<std::pair<std::string, std::string>> sequence = {
      {"HEAD", ""},           {"POST", "first body"}, {"GET", ""},
      {"PUT", "second body"}, {"HEAD", ""},           {"GET", ""},
      {"PATCH", "third"},     {"DELETE", ""},         {"GET", ""}};
  std::vector<JobSpec> specs;
  for (std::size_t i = 0; i < sequence.size(); ++i) {
    JobSpec spec{receiver.url("/seq/" + std::to_string(i))};
    spec.method = sequence[i].first;
    spec.body = sequence[i].second;
    specs.push_back(spec);
  }
  auto ids = enqueue(harness.store(), specs);
  auto settings = test_settings();
  settings.concurrency = 1;
  settings.host_concurrency = 1;
  ASSERT_EQ(harness.run_once(settings), dispatcher::LoopExit::kFinished);
  for (const auto& id : ids) EXPECT_EQ(harness.state(id), JobState::kDelivered);
  for (std::size_t i = 0; i < sequence.size(); ++i) {
    auto requests = receiver.requests_to("/seq/" + std::to_string(i));
    ASSERT_EQ(requests.size(), 1u) << i;
    EXPECT_EQ(requests[0].method, sequence[i].first) << i;
    EXPECT_EQ(requests[0].body, sequence[i].second) << i;
  }
}

// The dispatcher tells curl "no proxy" itself only when no proxy variable is set (see
// Transfer): with one set, requests still go through the proxy it names.
TEST(DispatchLoop, TheProxyEnvironmentIsStillHonoured) {
  TestReceiver proxy;  // answers the absolute-form request a proxy gets
  struct EnvGuard {
    explicit EnvGuard(const std::string& value) { ::setenv("http_proxy", value.c_str(), 1); }
    ~EnvGuard() { ::unsetenv("http_proxy"); }
  } guard(proxy.url(""));
  DispatchHarness harness;
  const std::string id = enqueue_one(harness.store(), {"http://receiver.invalid/via-proxy"});
  ASSERT_EQ(harness.run_once(test_settings()), dispatcher::LoopExit::kFinished);
  EXPECT_EQ(harness.state(id), JobState::kDelivered);
  auto requests = proxy.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].target, "http://receiver.invalid/via-proxy");
}

TEST(DispatchLoop, AFailingReceiverGetsExactlyNPlusOneAttemptsAtTheConfiguredInterval) {
  TestReceiver receiver;
  receiver.set_default_script(Script::always(Reply{500, "broken", {}, {}, false}));
  DispatchHarness harness;
  ManualClock clock(wall_ms());
  harness.use_clock(clock);
  JobSpec spec{receiver.url("/down")};
  spec.max_attempts = 1 + 3;  // WEBHOOK_UNSUCCESSFUL_RETRY_ATTEMPTS=3
  const std::string id = enqueue_one(harness.store(), spec, clock.now_ms());
  auto settings = test_settings();
  settings.fallback.retry.interval = 300ms;
  harness.start(settings);

  for (int64_t done = 1; done <= 3; ++done) {
    ASSERT_TRUE(harness.step_to_next_attempt(clock, id, done)) << "after attempt " << done;
  }
  ASSERT_TRUE(harness.wait_for_state(id, JobState::kDead));
  auto detail = harness.job(id);
  ASSERT_EQ(detail->attempts.size(), 4u);
  EXPECT_EQ(receiver.count(), 4u);
  for (const auto& attempt : detail->attempts) {
    EXPECT_EQ(attempt.http_status, 500);
    EXPECT_EQ(attempt.response_head, "broken");
  }
  EXPECT_NE(detail->job.last_error.find("no attempts left"), std::string::npos);
  EXPECT_EQ(attempt_gaps(*detail), (std::vector<int64_t>{300, 300, 300}));
  // Dead stays dead: an hour later a dispatcher finds nothing to send.
  harness.stop();
  clock.advance(3600 * 1000);
  ASSERT_EQ(harness.run_once(settings), dispatcher::LoopExit::kFinished);
  EXPECT_EQ(receiver.count(), 4u);
}

TEST(DispatchLoop, ARecoveringReceiverIsDeliveredOnTheRetry) {
  TestReceiver receiver;
  receiver.set_script("/flaky", Script::fail_first(2, Reply::status_only(502)));
  DispatchHarness harness;
  const std::string id = enqueue_one(harness.store(), {receiver.url("/flaky")});
  harness.start(test_settings());
  ASSERT_TRUE(harness.wait_for_state(id, JobState::kDelivered));
  auto detail = harness.job(id);
  ASSERT_EQ(detail->attempts.size(), 3u);
  EXPECT_EQ(detail->attempts[0].error, "HTTP 502");
  EXPECT_EQ(detail->attempts[2].http_status, 200);
  // Every attempt carries the same idempotency key.
  std::set<std::string> keys;
  for (const auto& request : receiver.requests()) keys.insert(request.header("Idempotency-Key"));
  EXPECT_EQ(keys, std::set<std::string>{id});
}

TEST(DispatchLoop, ExponentialBackoffStaysWithinItsBounds) {
  TestReceiver receiver;
  receiver.set_default_script(Script::always(Reply::status_only(503)));
  DispatchHarness harness;
  ManualClock clock(wall_ms());
  harness.use_clock(clock, alternating_jitter());
  JobSpec spec{receiver.url("/backoff")};
  spec.max_attempts = 5;
  const std::string id = enqueue_one(harness.store(), spec, clock.now_ms());
  auto settings = test_settings();
  settings.fallback.retry.interval = 150ms;
  settings.fallback.retry.exponential = true;
  settings.fallback.retry.max_interval = 500ms;
  harness.start(settings);

  for (int64_t done = 1; done <= 4; ++done) {
    ASSERT_TRUE(harness.step_to_next_attempt(clock, id, done)) << "after attempt " << done;
  }
  ASSERT_TRUE(harness.wait_for_state(id, JobState::kDead));
  // 150, 300, 600, 1200 ms doubling, -20 % / +20 % jitter in turn, capped at 500 ms.
  EXPECT_EQ(attempt_gaps(*harness.job(id)), (std::vector<int64_t>{120, 360, 480, 500}));
}

TEST(DispatchLoop, RetryAfterIsHonouredUpToTheMaximum) {
  TestReceiver receiver;
  receiver.set_script("/busy", Script::fail_first(1, Reply::retry_after(429, "1")));
  receiver.set_script("/capped", Script::fail_first(1, Reply::retry_after(503, "3600")));
  DispatchHarness harness;
  ManualClock clock(wall_ms());
  harness.use_clock(clock);
  auto ids = enqueue(harness.store(), {{receiver.url("/busy")}, {receiver.url("/capped")}},
                     clock.now_ms());
  auto settings = test_settings();
  settings.fallback.retry.interval = 50ms;
  settings.fallback.retry.max_interval = 600ms;
  harness.start(settings);

  // Both failed at the same (frozen) time, so both are due at the same time too.
  ASSERT_TRUE(harness.step_to_next_attempt(clock, ids[0], 1));
  ASSERT_TRUE(harness.step_to_next_attempt(clock, ids[1], 1));
  for (const auto& id : ids) ASSERT_TRUE(harness.wait_for_state(id, JobState::kDelivered));
  // Asked 1 s, capped at the 600 ms maximum; asked an hour, capped likewise.
  EXPECT_EQ(attempt_gaps(*harness.job(ids[0])), std::vector<int64_t>{600});
  EXPECT_EQ(attempt_gaps(*harness.job(ids[1])), std::vector<int64_t>{600});
}

TEST(DispatchLoop, RetryAfterIsAFloorAboveTheInterval) {
  TestReceiver receiver;
  receiver.set_script("/busy", Script::fail_first(1, Reply::retry_after(429, "1")));
  DispatchHarness harness;
  ManualClock clock(wall_ms());
  harness.use_clock(clock);
  const std::string id = enqueue_one(harness.store(), {receiver.url("/busy")}, clock.now_ms());
  harness.start(test_settings());  // interval 100 ms, max 10 s
  ASSERT_TRUE(harness.step_to_next_attempt(clock, id, 1));
  ASSERT_TRUE(harness.wait_for_state(id, JobState::kDelivered));
  EXPECT_EQ(attempt_gaps(*harness.job(id)), std::vector<int64_t>{1000});
}

TEST(DispatchLoop, PermanentStatusesAreDeadAfterOneAttemptPerFeed) {
  TestReceiver receiver;
  receiver.set_default_script(Script::always(Reply::status_only(410)));
  DispatchHarness harness;
  JobSpec strict{receiver.url("/strict")};
  strict.feed = "strict";
  JobSpec gone{receiver.url("/unconfigured")};
  gone.feed = "removed-feed";  // not configured any more: the shared settings apply
  gone.max_attempts = 2;
  const std::string strict_id = enqueue_one(harness.store(), strict);
  const std::string gone_id = enqueue_one(harness.store(), gone);
  auto settings = test_settings();
  settings.feeds["strict"].retry.permanent_statuses = {400, 410};
  harness.start(settings);

  ASSERT_TRUE(harness.wait_for_state(strict_id, JobState::kDead));
  ASSERT_TRUE(harness.wait_for_state(gone_id, JobState::kDead));
  auto detail = harness.job(strict_id);
  EXPECT_EQ(detail->attempts.size(), 1u);
  EXPECT_NE(detail->job.last_error.find("WEBHOOK_PERMANENT_STATUSES"), std::string::npos);
  EXPECT_EQ(harness.job(gone_id)->attempts.size(), 2u);  // retried, not permanent
}

TEST(DispatchLoop, TransportFailuresAreFailedAttemptsWithCurlsErrorText) {
  TestReceiver receiver;
  receiver.set_script("/stall", Script::always(Reply::stalled(10s)));
  receiver.set_script("/drop", Script::always(Reply{200, {}, {}, {}, true}));
  int closed_port = 0;
  {
    TestReceiver gone;
    closed_port = gone.port();
  }
  DispatchHarness harness;
  std::vector<JobSpec> specs = {
      {receiver.url("/stall")},
      {receiver.url("/drop")},
      {"http://127.0.0.1:" + std::to_string(closed_port) + "/refused"},
  };
  for (auto& spec : specs) spec.max_attempts = 1;
  auto ids = enqueue(harness.store(), specs);
  auto settings = test_settings();
  settings.timeout = 300ms;
  harness.start(settings);

  const char* expected[] = {"imed out", "", "onnect"};
  for (std::size_t i = 0; i < ids.size(); ++i) {
    ASSERT_TRUE(harness.wait_for_state(ids[i], JobState::kDead)) << specs[i].url;
    auto detail = harness.job(ids[i]);
    ASSERT_EQ(detail->attempts.size(), 1u);
    EXPECT_FALSE(detail->attempts[0].http_status.has_value()) << specs[i].url;
    EXPECT_FALSE(detail->attempts[0].error.empty());
    EXPECT_NE(detail->attempts[0].error.find(expected[i]), std::string::npos)
        << detail->attempts[0].error;
  }
  receiver.release_stalls();
}

TEST(DispatchLoop, KeepsOnlyTheFirstFourKibOfTheResponseBody) {
  TestReceiver receiver;
  receiver.set_default_script(Script::always(Reply{500, std::string(10000, 'x'), {}, {}, false}));
  DispatchHarness harness;
  JobSpec spec{receiver.url("/big")};
  spec.max_attempts = 1;
  const std::string id = enqueue_one(harness.store(), spec);
  harness.start(test_settings());
  ASSERT_TRUE(harness.wait_for_state(id, JobState::kDead));
  EXPECT_EQ(harness.job(id)->attempts[0].response_head, std::string(4096, 'x'));
}

TEST(DispatchLoop, FollowsRedirectsUpToFive) {
  TestReceiver receiver;
  for (int i = 0; i < 7; ++i) {
    receiver.set_script(
        "/r" + std::to_string(i),
        Script::always(
            Reply{307, {}, {{"Location", receiver.url("/r" + std::to_string(i + 1))}}, {}, false}));
  }
  receiver.set_script("/r3", Script::always(Reply::status_only(200)));
  DispatchHarness harness;
  JobSpec near{receiver.url("/r0")};
  JobSpec far{receiver.url("/r4")};  // r4 -> r5 -> r6 -> r7 ... more than five hops
  receiver.set_script(
      "/r7", Script::always(Reply{307, {}, {{"Location", receiver.url("/r8")}}, {}, false}));
  receiver.set_script(
      "/r8", Script::always(Reply{307, {}, {{"Location", receiver.url("/r9")}}, {}, false}));
  receiver.set_script(
      "/r9", Script::always(Reply{307, {}, {{"Location", receiver.url("/r4")}}, {}, false}));
  far.max_attempts = 1;
  auto ids = enqueue(harness.store(), {near, far});
  harness.start(test_settings());
  ASSERT_TRUE(harness.wait_for_state(ids[0], JobState::kDelivered));
  ASSERT_TRUE(harness.wait_for_state(ids[1], JobState::kDead));
  EXPECT_NE(harness.job(ids[1])->attempts[0].error.find("edirect"), std::string::npos)
      << harness.job(ids[1])->attempts[0].error;
}

TEST(DispatchLoop, TlsVerificationRejectsASelfSignedReceiverUnlessItsCaIsGiven) {
  DispatchHarness harness;
  auto tls = testing::make_self_signed_certificate(harness.dir().path().string());
  TestReceiver receiver(tls);
  JobSpec spec{receiver.url("/tls")};
  spec.max_attempts = 1;
  const std::string rejected = enqueue_one(harness.store(), spec);
  {
    auto settings = test_settings();
    ASSERT_EQ(harness.run_once(settings), dispatcher::LoopExit::kFinished);
  }
  ASSERT_EQ(harness.state(rejected), JobState::kDead);
  EXPECT_EQ(receiver.count(), 0u);
  const auto error = harness.job(rejected)->attempts[0].error;
  EXPECT_TRUE(error.find("certificate") != std::string::npos ||
              error.find("SSL") != std::string::npos)
      << error;

  const std::string trusted = enqueue_one(harness.store(), spec);
  auto settings = test_settings();
  settings.ca_file = tls.certificate_pem;
  ASSERT_EQ(harness.run_once(settings), dispatcher::LoopExit::kFinished);
  EXPECT_EQ(harness.state(trusted), JobState::kDelivered);

  const std::string unverified = enqueue_one(harness.store(), spec);
  settings = test_settings();
  settings.ssl_verify = false;
  ASSERT_EQ(harness.run_once(settings), dispatcher::LoopExit::kFinished);
  EXPECT_EQ(harness.state(unverified), JobState::kDelivered);
}

// The receiver checks the Standard Webhooks signature with Python's hmac module, from
// nothing but the request it got and the secret.
TEST(DispatchLoop, ReceiversVerifyTheSignatureIndependently) {
  TestReceiver receiver;
  DispatchHarness harness;
  const std::string secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  JobSpec signed_job{receiver.url("/signed")};
  signed_job.feed = "signed";
  signed_job.method = "POST";
  signed_job.headers = {{"Content-Type", "application/json"}};
  signed_job.body = "{\"id\": \"caf\xc3\xa9\", \"n\": 1}";
  JobSpec plain{receiver.url("/plain")};
  plain.feed = "unsigned";
  const std::string id = enqueue_one(harness.store(), signed_job);
  enqueue_one(harness.store(), plain);
  auto settings = test_settings();
  settings.feeds["signed"].secret = secret;
  settings.feeds["unsigned"] = {};
  const int64_t before = wall_ms() / 1000;
  ASSERT_EQ(harness.run_once(settings), dispatcher::LoopExit::kFinished);

  auto requests = receiver.requests_to("/signed");
  ASSERT_EQ(requests.size(), 1u);
  const auto& request = requests[0];
  EXPECT_EQ(request.header("webhook-id"), id);
  const std::string timestamp = request.header("webhook-timestamp");
  ASSERT_FALSE(timestamp.empty());
  EXPECT_GE(std::stoll(timestamp), before);
  EXPECT_LE(std::stoll(timestamp), wall_ms() / 1000);
  const std::string body_file = harness.dir().write("received-body", request.body);
  const std::string verify =
      "import base64,hashlib,hmac,sys\n"
      "secret, msg_id, ts, signature, path = sys.argv[1:]\n"
      "key = base64.b64decode(secret[len('whsec_'):])\n"
      "msg = f'{msg_id}.{ts}.'.encode() + open(path, 'rb').read()\n"
      "expected = base64.b64encode(hmac.new(key, msg, hashlib.sha256).digest()).decode()\n"
      "ok = any(hmac.compare_digest(s.split(',', 1)[1], expected)\n"
      "         for s in signature.split(' ') if s.startswith('v1,'))\n"
      "print('valid' if ok else 'invalid')\n";
  auto result = testing::run_command({"python3", "-c", verify, secret, request.header("webhook-id"),
                                      timestamp, request.header("webhook-signature"), body_file});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "valid\n") << request.header("webhook-signature");

  auto unsigned_requests = receiver.requests_to("/plain");
  ASSERT_EQ(unsigned_requests.size(), 1u);
  EXPECT_EQ(unsigned_requests[0].header("webhook-signature"), "");
  EXPECT_EQ(unsigned_requests[0].header("webhook-timestamp"), "");
  EXPECT_FALSE(unsigned_requests[0].header("webhook-id").empty());
}

TEST(DispatchLoop, OnceDeliversEverythingDueAndReturns) {
  TestReceiver receiver;
  DispatchHarness harness;
  std::vector<JobSpec> specs;
  for (int i = 0; i < 50; ++i) specs.push_back({receiver.url("/once/" + std::to_string(i))});
  auto ids = enqueue(harness.store(), specs);
  ASSERT_EQ(harness.run_once(test_settings()), dispatcher::LoopExit::kFinished);
  for (const auto& id : ids) EXPECT_EQ(harness.state(id), JobState::kDelivered);
  EXPECT_EQ(receiver.count(), 50u);
}

TEST(DispatchLoop, PicksUpJobsCommittedByAnotherConnectionWhileIdle) {
  TestReceiver receiver;
  DispatchHarness harness;
  auto settings = test_settings();
  settings.reclaim_every = 1h;  // only data_version can wake it
  harness.start(settings);
  for (int round = 0; round < 3; ++round) {
    const std::string id = enqueue_one(harness.store(), {receiver.url("/late")});
    ASSERT_TRUE(harness.wait_for_state(id, JobState::kDelivered));
  }
  EXPECT_EQ(receiver.count(), 3u);
  // It said it was alive, for health checks.
  auto heartbeat = harness.store().last_heartbeat("dispatcher");
  ASSERT_TRUE(heartbeat.has_value());
  EXPECT_GE(*heartbeat, wall_ms() - 60000);
}

TEST(DispatchLoop, TakesBackExpiredLeasesAndRetriesTheJob) {
  TestReceiver receiver;
  DispatchHarness harness;
  const std::string id = enqueue_one(harness.store(), {receiver.url("/orphan")});
  // A dispatcher that claimed the job and died: its lease runs out in 200 ms.
  auto claimed = harness.store().claim("dead-dispatcher", 1, 200ms, wall_ms());
  ASSERT_EQ(claimed.size(), 1u);
  harness.start(test_settings());
  ASSERT_TRUE(harness.wait_for_state(id, JobState::kDelivered));
  auto detail = harness.job(id);
  ASSERT_EQ(detail->attempts.size(), 2u);
  EXPECT_EQ(detail->attempts[0].worker, "dead-dispatcher");
  EXPECT_EQ(detail->attempts[1].http_status, 200);
  EXPECT_EQ(receiver.count(), 1u);
}

TEST(DispatchLoop, PrunesFinishedJobsOlderThanTheRetentionAtStart) {
  TestReceiver receiver;
  DispatchHarness harness;
  // Enqueued and delivered 31 days ago, as far as the database knows.
  ManualClock past(wall_ms() - 31LL * 24 * 3600 * 1000);
  const std::string old_id = enqueue_one(harness.store(), {receiver.url("/old")}, past.now_ms());
  ASSERT_EQ(harness.run_once(test_settings(), &past), dispatcher::LoopExit::kFinished);
  ASSERT_EQ(harness.state(old_id), JobState::kDelivered);
  const std::string recent_id = enqueue_one(harness.store(), {receiver.url("/recent")});

  auto settings = test_settings();
  settings.retention_days = 30;
  ASSERT_EQ(harness.run_once(settings), dispatcher::LoopExit::kFinished);
  EXPECT_FALSE(harness.job(old_id).has_value());
  EXPECT_EQ(harness.state(recent_id), JobState::kDelivered);
}

TEST(DispatchLoop, StopLetsRequestsFinishWithinTheGraceAndReleasesTheRest) {
  TestReceiver receiver;
  receiver.set_script("/quick", Script::always(Reply::stalled(300ms)));
  receiver.set_script("/slow", Script::always(Reply::stalled(30s)));
  DispatchHarness harness;
  auto ids = enqueue(harness.store(), {{receiver.url("/quick")}, {receiver.url("/slow")}});
  auto settings = test_settings();
  settings.timeout = 60s;
  settings.shutdown_grace = 3s;
  harness.start(settings);
  ASSERT_TRUE(receiver.wait_for_count(2, 10s));

  harness.request_stop();
  harness.join();
  EXPECT_EQ(harness.stop(), dispatcher::LoopExit::kFinished);
  EXPECT_EQ(harness.state(ids[0]), JobState::kDelivered);
  auto slow = harness.job(ids[1]);
  EXPECT_EQ(slow->job.state, JobState::kPending);
  EXPECT_EQ(slow->job.attempts, 0);  // aborted, not charged
  EXPECT_TRUE(slow->attempts.empty());
  receiver.release_stalls();
}

TEST(DispatchLoop, ConcurrencyAndHostLimitsBoundRequestsInFlight) {
  TestReceiver receiver;
  receiver.set_default_script(Script::always(Reply::stalled(150ms)));
  DispatchHarness harness;
  std::vector<JobSpec> specs;
  for (int i = 0; i < 24; ++i) specs.push_back({receiver.url("/limit/" + std::to_string(i))});
  auto ids = enqueue(harness.store(), specs);
  auto settings = test_settings();
  settings.concurrency = 6;
  settings.host_concurrency = 3;
  ASSERT_EQ(harness.run_once(settings), dispatcher::LoopExit::kFinished);
  for (const auto& id : ids) EXPECT_EQ(harness.state(id), JobState::kDelivered);
  // At most 3 requests at once reached the one host: count overlaps from arrival times.
  auto requests = receiver.requests();
  std::sort(requests.begin(), requests.end(),
            [](const auto& a, const auto& b) { return a.received_at_ms < b.received_at_ms; });
  std::size_t most = 0;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    std::size_t overlapping = 0;
    for (std::size_t j = 0; j <= i; ++j) {
      if (requests[j].received_at_ms + 150 > requests[i].received_at_ms) ++overlapping;
    }
    most = std::max(most, overlapping);
  }
  EXPECT_LE(most, 3u);
  EXPECT_GE(most, 2u);
}

}  // namespace
}  // namespace webhook::dispatcher_test
