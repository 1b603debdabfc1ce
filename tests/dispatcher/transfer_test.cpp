// What one webhook request puts on the wire, checked with the real webhook-dispatcher
// binary against receivers on loopback: a raw-socket receiver that counts the requests it
// parses (request smuggling, issue 21 item 11), and pairs of receivers on two ports for
// redirects to another origin and WEBHOOK_ALLOWED_HOSTS.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>

#include "tests/dispatcher/dispatch_harness.h"
#include "tests/support/child_process.h"
#include "tests/support/test_receiver.h"

namespace webhook::dispatcher_test {
namespace {

using testing::Reply;
using testing::Script;
using testing::TestReceiver;

// An HTTP/1.1 server on 127.0.0.1 written on raw sockets, so that it reads the bytes as any
// server would: a request is its head up to the blank line plus Content-Length bytes, and
// whatever follows on the connection is the next request. Answers 200 to each. One thread.
class RawReceiver {
 public:
  struct Request {
    std::string line;  // "POST /hook HTTP/1.1"
    std::string body;
  };

  RawReceiver() {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (listener_ < 0) throw std::runtime_error("socket failed");
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof address;
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), size) != 0 ||
        ::listen(listener_, 16) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
      ::close(listener_);
      throw std::runtime_error(std::string("cannot listen: ") + std::strerror(errno));
    }
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~RawReceiver() {
    stopping_ = true;
    thread_.join();
    ::close(listener_);
  }

  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::vector<Request> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  void serve() {
    std::vector<pollfd> fds{{listener_, POLLIN, 0}};
    std::map<int, std::string> buffers;
    while (!stopping_) {
      for (auto& fd : fds) fd.revents = 0;
      // A bounded wait, so that the destructor's flag is seen.
      if (::poll(fds.data(), fds.size(), 50) <= 0) continue;
      std::vector<pollfd> next{fds[0]};
      if (fds[0].revents & POLLIN) {
        int client = ::accept(listener_, nullptr, nullptr);
        if (client >= 0) next.push_back({client, POLLIN, 0});
      }
      for (std::size_t i = 1; i < fds.size(); ++i) {
        if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
          next.push_back(fds[i]);
          continue;
        }
        char chunk[4096];
        ssize_t n = ::read(fds[i].fd, chunk, sizeof chunk);
        if (n <= 0) {
          ::close(fds[i].fd);
          buffers.erase(fds[i].fd);
          continue;
        }
        buffers[fds[i].fd].append(chunk, static_cast<std::size_t>(n));
        answer_complete_requests(fds[i].fd, buffers[fds[i].fd]);
        next.push_back(fds[i]);
      }
      fds = std::move(next);
    }
    for (std::size_t i = 1; i < fds.size(); ++i) ::close(fds[i].fd);
  }

  void answer_complete_requests(int fd, std::string& buffer) {
    for (;;) {
      auto head_end = buffer.find("\r\n\r\n");
      if (head_end == std::string::npos) return;
      std::string head = buffer.substr(0, head_end + 2);
      std::size_t length = 0;
      std::string lower = head;
      for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (auto at = lower.find("\r\ncontent-length:"); at != std::string::npos) {
        length = std::stoul(lower.substr(at + 17));
      }
      if (buffer.size() < head_end + 4 + length) return;
      Request request{head.substr(0, head.find("\r\n")), buffer.substr(head_end + 4, length)};
      buffer.erase(0, head_end + 4 + length);
      {
        std::lock_guard lock(mutex_);
        requests_.push_back(std::move(request));
      }
      const std::string reply = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
      if (::write(fd, reply.data(), reply.size()) < 0) return;
    }
  }

  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  mutable std::mutex mutex_;
  std::vector<Request> requests_;
};

// The real binary, with `settings` as its whole environment (and PATH).
class DispatcherProcess : public testing::ChildProcess {
 public:
  DispatcherProcess(std::map<std::string, std::string> settings, const std::string& log)
      : ChildProcess({WEBHOOK_BINARY_DIR "/dispatcher/webhook-dispatcher"},
                     with_defaults(std::move(settings)), log) {}

 private:
  static std::map<std::string, std::string> with_defaults(std::map<std::string, std::string> env) {
    env.emplace("OPENCTI_JSON_LOGGING", "false");
    env.emplace("WEBHOOK_DATABASE_SYNCHRONOUS", "NORMAL");
    env.emplace("WEBHOOK_UNSUCCESSFUL_RETRY_INTERVAL", "0.1");
    return env;
  }
};

// Runs a dispatcher on `harness`'s database until the jobs `ids` reach `state`, then
// stops it.
void deliver(DispatchHarness& harness, const std::vector<std::string>& ids, JobState state,
             std::map<std::string, std::string> settings = {}) {
  settings["WEBHOOK_DATABASE_PATH"] = harness.path();
  const std::string log = harness.dir().file("dispatcher.log");
  DispatcherProcess dispatcher(settings, log);
  for (const auto& id : ids) {
    ASSERT_TRUE(harness.wait_for_state(id, state, 30s)) << dispatcher.output();
  }
  dispatcher.signal(SIGTERM);
  EXPECT_EQ(dispatcher.wait_for(10s), 0) << dispatcher.output();
}

// Issue 21 item 11: `Content-Length: 0` in a job's headers and a body holding a request made
// the receiver see two requests, the POST and `GET /smuggled`. The poller now refuses such
// headers at start (CheckConfig.HeadersTheClientSetsItselfAreRefused); a job enqueued
// before it did is sent with curl's own framing, so the receiver sees one request.
TEST(Transfer, AJobsFramingHeadersNeverFrameTheBody) {
  RawReceiver receiver;
  DispatchHarness harness;
  const std::string smuggled = "GET /smuggled HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  for (const auto& [name, value] :
       std::vector<std::pair<std::string, std::string>>{{"Content-Length", "0"},
                                                        {"Transfer-Encoding", "chunked"},
                                                        {"Connection", "close"},
                                                        {"Host", "elsewhere.example"}}) {
    SCOPED_TRACE(name);
    const std::size_t before = receiver.requests().size();
    JobSpec spec(receiver.url("/hook"));
    spec.method = "POST";
    spec.headers = {{name, value}, {"X-Kept", "1"}};
    spec.body = smuggled;
    const std::string id = enqueue_one(harness.store(), spec);
    deliver(harness, {id}, JobState::kDelivered);
    auto requests = receiver.requests();
    ASSERT_EQ(requests.size(), before + 1);
    EXPECT_EQ(requests.back().line, "POST /hook HTTP/1.1");
    EXPECT_EQ(requests.back().body, smuggled);
  }
  for (const auto& request : receiver.requests()) {
    EXPECT_EQ(request.line.find("/smuggled"), std::string::npos) << request.line;
  }
}

// Decision (issue 21): curl drops only Authorization and Cookie on a redirect to another
// host, so an X-Api-Key followed a 3xx anywhere. A redirect to another origin is not
// followed unless WEBHOOK_CROSS_ORIGIN_REDIRECTS=true: the attempt fails with the 3xx.
TEST(Transfer, ARedirectToAnotherOriginIsNotFollowedUnlessAllowed) {
  TestReceiver first;
  TestReceiver second;
  first.set_script("/hook", Script::always(Reply{302, {}, {{"Location", second.url("/landing")}}}));
  first.set_script("/moved", Script::always(Reply{307, {}, {{"Location", "/hook-here"}}}));
  DispatchHarness harness;
  JobSpec spec(first.url("/hook"));
  spec.headers = {{"X-Api-Key", "api-key-7d1c"}};
  spec.max_attempts = 1;
  const std::string refused = enqueue_one(harness.store(), spec);
  deliver(harness, {refused}, JobState::kDead);
  EXPECT_EQ(first.requests_to("/hook").size(), 1u);
  EXPECT_EQ(second.count(), 0u);  // never contacted: the key stays with the first origin
  auto detail = harness.job(refused);
  ASSERT_EQ(detail->attempts.size(), 1u);
  EXPECT_EQ(detail->attempts[0].http_status, 302);
  EXPECT_NE(detail->job.last_error.find("redirect to another origin (http://127.0.0.1:" +
                                        std::to_string(second.port()) + ") not followed"),
            std::string::npos)
      << detail->job.last_error;
  EXPECT_NE(detail->job.last_error.find("WEBHOOK_CROSS_ORIGIN_REDIRECTS"), std::string::npos);

  // Within the origin, redirects are followed with the headers.
  JobSpec same(first.url("/moved"));
  same.headers = {{"X-Api-Key", "api-key-7d1c"}};
  const std::string followed = enqueue_one(harness.store(), same);
  deliver(harness, {followed}, JobState::kDelivered);
  ASSERT_EQ(first.requests_to("/hook-here").size(), 1u);
  EXPECT_EQ(first.requests_to("/hook-here")[0].header("X-Api-Key"), "api-key-7d1c");

  // Allowed by the setting, the other origin gets the request.
  spec.max_attempts = 4;
  const std::string allowed = enqueue_one(harness.store(), spec);
  deliver(harness, {allowed}, JobState::kDelivered, {{"WEBHOOK_CROSS_ORIGIN_REDIRECTS", "true"}});
  ASSERT_EQ(second.requests_to("/landing").size(), 1u);
  EXPECT_EQ(second.requests_to("/landing")[0].header("X-Api-Key"), "api-key-7d1c");
}

// Decision (issue 21): WEBHOOK_ALLOWED_HOSTS bounds where the dispatcher sends, also for a
// job made before the setting (or sent again with `webhookctl retry`) and for redirects.
TEST(Transfer, AllowedHostsBoundTheJobsUrlAndItsRedirects) {
  TestReceiver allowed;
  TestReceiver other;
  allowed.set_script("/hop", Script::always(Reply{302, {}, {{"Location", other.url("/x")}}}));
  DispatchHarness harness;
  JobSpec direct(other.url("/direct"));
  direct.max_attempts = 1;
  JobSpec hop(allowed.url("/hop"));
  hop.max_attempts = 1;
  const std::string direct_id = enqueue_one(harness.store(), direct);
  const std::string hop_id = enqueue_one(harness.store(), hop);
  const std::string hosts = "localhost, 127.0.0.1:" + std::to_string(allowed.port());
  std::map<std::string, std::string> settings = {{"WEBHOOK_ALLOWED_HOSTS", hosts},
                                                 {"WEBHOOK_CROSS_ORIGIN_REDIRECTS", "true"}};
  deliver(harness, {direct_id, hop_id}, JobState::kDead, settings);
  EXPECT_EQ(other.count(), 0u);
  EXPECT_NE(harness.job(direct_id)->job.last_error.find(
                "the URL names 127.0.0.1:" + std::to_string(other.port()) +
                ", which is not in WEBHOOK_ALLOWED_HOSTS; not sent"),
            std::string::npos)
      << harness.job(direct_id)->job.last_error;
  EXPECT_NE(harness.job(hop_id)->job.last_error.find("that host is not in WEBHOOK_ALLOWED_HOSTS"),
            std::string::npos)
      << harness.job(hop_id)->job.last_error;
}

}  // namespace
}  // namespace webhook::dispatcher_test
