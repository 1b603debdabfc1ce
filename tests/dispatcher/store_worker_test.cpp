// The dispatcher's database thread on a real file: one request records outcomes and claims
// the next jobs in one go, the reply is signalled on its descriptor, and what a failing
// database did not write comes back to the loop instead of being lost.
#include "dispatcher/store_worker.h"

#include "common/store/fault_injecting_store.h"

#include <poll.h>

#include <gtest/gtest.h>

#include "tests/dispatcher/dispatch_harness.h"
#include "tests/support/temp_dir.h"

namespace webhook::dispatcher_test {
namespace {

using dispatcher::StoreReply;
using dispatcher::StoreRequest;
using dispatcher::StoreWorker;

StoreRequest request_at(int64_t now, int claim_max = 0) {
  StoreRequest request;
  request.now = now;
  request.claim_max = claim_max;
  return request;
}

// Waits (up to a deadline) until the worker's descriptor says a reply is ready.
StoreReply wait_reply(StoreWorker& worker) {
  pollfd ready{worker.fd(), POLLIN, 0};
  EXPECT_EQ(poll(&ready, 1, 10000), 1) << "no reply within 10 s";
  std::optional<StoreReply> reply = worker.take_reply();
  EXPECT_TRUE(reply.has_value());
  return reply ? std::move(*reply) : StoreReply{};
}

store::Outcome delivered(const store::ClaimedJob& job, const std::string& worker, int64_t now) {
  store::Outcome outcome;
  outcome.job_id = job.id;
  outcome.lease_token = job.lease_token;
  outcome.worker = worker;
  outcome.kind = store::OutcomeKind::kDelivered;
  outcome.started_at = now;
  outcome.http_status = 204;
  return outcome;
}

TEST(StoreWorker, RecordsOutcomesAndClaimsTheNextJobsInOneRequest) {
  webhook::testing::TempDir dir;
  auto store = open_store(dir.file("jobs.db"));
  const std::vector<std::string> ids =
      enqueue(*store, {{"http://a/1"}, {"http://a/2"}, {"http://a/3"}});
  StoreWorker worker(*store, "w1", 30s);
  EXPECT_FALSE(worker.busy());
  EXPECT_FALSE(worker.take_reply().has_value());

  const int64_t now = wall_ms();
  StoreRequest first_request = request_at(now, 1);
  first_request.heartbeat = true;
  worker.submit(std::move(first_request));
  EXPECT_TRUE(worker.busy());
  StoreReply first = wait_reply(worker);
  EXPECT_FALSE(worker.busy());
  EXPECT_TRUE(first.error.empty()) << first.error;
  ASSERT_EQ(first.claimed.size(), 1u);
  EXPECT_EQ(first.claimed[0].id, ids[0]);
  EXPECT_EQ(store->last_heartbeat("dispatcher"), now);  // the worker is idle: safe to read

  StoreRequest second = request_at(now + 1, 5);
  second.attempts.add(delivered(first.claimed[0], "w1", now), first.claimed[0], "");
  worker.submit(std::move(second));
  StoreReply reply = wait_reply(worker);
  EXPECT_TRUE(reply.recorded);
  EXPECT_EQ(reply.record_result.applied, 1);
  ASSERT_EQ(reply.claimed.size(), 2u);  // the claim was not full: the next due time is read
  EXPECT_EQ(reply.next_due, std::nullopt);

  // Asked to wait for work first: nobody else committed, so no claim runs.
  StoreRequest third = request_at(now + 2, 5);
  third.wait_for_work = 0ms;
  worker.submit(std::move(third));
  EXPECT_FALSE(wait_reply(worker).claim_ran);
}

// A request waiting for work holds the worker until work comes, or until the loop takes it
// back with interrupt() (then nothing is claimed).
TEST(StoreWorker, AWaitForWorkEndsWithNewWorkOrAnInterrupt) {
  webhook::testing::TempDir dir;
  auto store = open_store(dir.file("jobs.db"));
  auto poller = open_store(dir.file("jobs.db"));
  StoreWorker worker(*store, "w1", 30s);
  const int64_t now = wall_ms();
  worker.submit(request_at(now, 5));  // the first claim: nothing there yet
  ASSERT_TRUE(wait_reply(worker).claimed.empty());

  StoreRequest waiting = request_at(now, 5);
  waiting.wait_for_work = std::chrono::minutes(10);
  worker.submit(std::move(waiting));
  worker.interrupt();
  StoreReply interrupted = wait_reply(worker);
  EXPECT_FALSE(interrupted.claim_ran);
  EXPECT_TRUE(interrupted.error.empty()) << interrupted.error;

  // Claims as of a minute on, so the job enqueued below is due by then.
  waiting = request_at(now + 60000, 5);
  waiting.wait_for_work = std::chrono::minutes(10);
  worker.submit(std::move(waiting));
  auto ids = enqueue(*poller, {{"http://a/1"}});  // another connection commits
  StoreReply woken = wait_reply(worker);
  EXPECT_TRUE(woken.claim_ran);
  ASSERT_EQ(woken.claimed.size(), 1u);
  EXPECT_EQ(woken.claimed[0].id, ids[0]);
}

TEST(StoreWorker, HandsBackWhatAFailingDatabaseDidNotWrite) {
  webhook::testing::TempDir dir;
  auto setup = open_store(dir.file("jobs.db"));
  enqueue(*setup, {{"http://a/1"}});
  const int64_t now = wall_ms();
  const std::vector<store::ClaimedJob> jobs = setup->claim("w1", 1, 30s, now);
  ASSERT_EQ(jobs.size(), 1u);

  store::StoreOptions options;
  options.path = dir.file("jobs.db");
  auto failing = store::FaultInjectingStore::open(options);
  failing->at("record_outcomes:first_applied",
              [](std::string_view) { throw std::runtime_error("disk on fire"); });
  StoreWorker worker(*failing, "w1", 30s);
  StoreRequest request = request_at(now);
  request.attempts.add(delivered(jobs[0], "w1", now), jobs[0], "");
  request.releases.push_back("some-job");
  worker.submit(std::move(request));
  StoreReply reply = wait_reply(worker);
  EXPECT_NE(reply.error.find("disk on fire"), std::string::npos) << reply.error;
  EXPECT_FALSE(reply.recorded);
  ASSERT_EQ(reply.attempts.size(), 1u);
  EXPECT_EQ(reply.attempts.outcomes()[0].job_id, jobs[0].id);
  EXPECT_FALSE(reply.released);
  EXPECT_EQ(reply.unreleased, std::vector<std::string>{"some-job"});
  EXPECT_EQ(setup->job(jobs[0].id)->job.state, JobState::kRunning);
}

}  // namespace
}  // namespace webhook::dispatcher_test
