#include "dispatcher/store_worker.h"

#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "common/logging.h"
#include "dispatcher/attempt_log.h"

namespace webhook::dispatcher {

StoreWorker::StoreWorker(store::JobStore& store, std::string worker,
                         std::chrono::milliseconds lease)
    : store_(store),
      worker_(std::move(worker)),
      lease_(lease),
      event_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
      interrupt_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (event_fd_ < 0 || interrupt_fd_ < 0) {
    if (event_fd_ >= 0) ::close(event_fd_);
    throw std::runtime_error(std::string("cannot create an eventfd: ") + std::strerror(errno));
  }
  thread_ = std::thread([this] { run(); });
}

StoreWorker::~StoreWorker() {
  {
    std::lock_guard lock(mutex_);
    quit_ = true;
  }
  const uint64_t one = 1;  // a request waiting for work ends at once
  [[maybe_unused]] ssize_t ignored = ::write(interrupt_fd_, &one, sizeof one);
  wake_.notify_one();
  thread_.join();
  ::close(event_fd_);
  ::close(interrupt_fd_);
}

void StoreWorker::submit(StoreRequest request) {
  if (busy_) throw std::logic_error("StoreWorker::submit while a request is in hand");
  busy_ = true;
  {
    std::lock_guard lock(mutex_);
    request_ = std::move(request);
  }
  wake_.notify_one();
}

std::optional<StoreReply> StoreWorker::take_reply() {
  std::optional<StoreReply> reply;
  {
    std::lock_guard lock(mutex_);
    if (!reply_) return std::nullopt;
    reply = std::move(reply_);
    reply_.reset();
  }
  uint64_t drained = 0;
  [[maybe_unused]] ssize_t ignored = ::read(event_fd_, &drained, sizeof drained);
  // An interrupt meant for this request must not cut the next one's wait short.
  ignored = ::read(interrupt_fd_, &drained, sizeof drained);
  busy_ = false;
  return reply;
}

void StoreWorker::interrupt() {
  if (!busy_) return;
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t ignored = ::write(interrupt_fd_, &one, sizeof one);
}

void StoreWorker::run() {
  // Named, so per-thread CPU figures (top -H, /proc, the benchmark) tell it from the loop.
  pthread_setname_np(pthread_self(), "store-worker");
  for (;;) {
    StoreRequest request;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return quit_ || request_.has_value(); });
      if (!request_) return;  // quit with nothing in hand
      request = std::move(*request_);
      request_.reset();
    }
    StoreReply reply = execute(request);
    {
      std::lock_guard lock(mutex_);
      reply_ = std::move(reply);
    }
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t ignored = ::write(event_fd_, &one, sizeof one);
  }
}

StoreReply StoreWorker::execute(StoreRequest& request) {
  StoreReply reply;
  const int64_t now = request.now;
  const AttemptBatch& attempts = request.attempts;
  {
    // The batch's attempt lines go out in one write, before its outcomes are committed.
    LogBatch lines;
    for (std::size_t i = 0; i < attempts.size(); ++i) {
      log_attempt(attempts.notes()[i].job, attempts.outcomes()[i], attempts.notes()[i].reason);
    }
  }
  try {
    // Expired leases first, so their jobs can be claimed below.
    if (request.reclaim) reply.reclaimed = store_.reclaim_expired_leases(now);
    int claim_max = request.claim_max;
    if (claim_max > 0 && request.wait_for_work &&
        !store_.wait_for_work(*request.wait_for_work, interrupt_fd_)) {
      claim_max = 0;  // no new work came (or the loop needs the worker back)
    }
    if (!attempts.empty() || claim_max > 0) {
      store::RecordAndClaim done =
          store_.record_and_claim(attempts.outcomes(), worker_, claim_max, lease_, now);
      reply.record_result = done.recorded;
      reply.claim_ran = claim_max > 0;
      reply.claimed = std::move(done.claimed);  // committed: the loop must have them
      if (reply.claim_ran && static_cast<int>(reply.claimed.size()) < claim_max) {
        reply.next_due = store_.next_due_at();
      }
    }
    reply.recorded = true;
    if (!request.releases.empty()) {
      reply.released_count = store_.release(worker_, request.releases, now);
    }
    reply.released = true;
    if (request.heartbeat) {
      store_.heartbeat("dispatcher", worker_, now);
      if (request.read_members) reply.members = store_.heartbeats();
    }
    if (request.prune_before)
      reply.pruned = store_.prune(*request.prune_before, request.prune_batch);
  } catch (const std::exception& error) {
    reply.error = error.what();
  }
  reply.attempts = std::move(request.attempts);
  if (!reply.released) reply.unreleased = std::move(request.releases);
  return reply;
}

}  // namespace webhook::dispatcher
