#include "poller/registration_thread.h"

#include <map>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <stdexcept>

#include "common/logging.h"

namespace webhook::poller {

// Stops on SIGTERM/SIGINT, or when the owner goes away first (a fatal error in main): the
// wait watches the signal's pipe and a pipe of its own.
class RegistrationThread::Stop final : public StopToken {
 public:
  explicit Stop(const ShutdownSignal& signal) : signal_(signal) {
    if (pipe2(pipe_, O_CLOEXEC | O_NONBLOCK) != 0) {
      throw std::runtime_error("cannot create the registration thread's stop pipe");
    }
  }
  ~Stop() override {
    close(pipe_[0]);
    close(pipe_[1]);
  }
  Stop(const Stop&) = delete;
  Stop& operator=(const Stop&) = delete;

  bool stop_requested() const override { return stopped_.load() || signal_.requested(); }

  bool wait_for(std::chrono::milliseconds timeout) override {
    if (stop_requested()) return true;
    struct pollfd fds[2] = {{signal_.fd(), POLLIN, 0}, {pipe_[0], POLLIN, 0}};
    int ms = static_cast<int>(std::max<std::chrono::milliseconds::rep>(0, timeout.count()));
    poll(fds, 2, ms);
    return stop_requested();
  }

  void request() {
    stopped_ = true;
    char byte = 1;
    [[maybe_unused]] auto n = write(pipe_[1], &byte, 1);
  }

 private:
  const ShutdownSignal& signal_;
  std::atomic<bool> stopped_{false};
  int pipe_[2] = {-1, -1};
};

nlohmann::ordered_json feed_cursors_state(store::JobStore& store,
                                          const std::vector<std::string>& feeds) {
  nlohmann::ordered_json state = {{"feeds", nlohmann::ordered_json::object()}};
  const std::map<std::string, std::string> streams = store.stream_cursors();
  for (const auto& feed : feeds) {
    if (auto it = streams.find(feed); it != streams.end()) {
      // A stream feed's position in pycti's terms, which the platform shows and gives back
      // at the next registration.
      state["feeds"][feed] = {{"start_from", it->second}};
      if (!state.contains("start_from")) state["start_from"] = it->second;
      continue;
    }
    auto cursor = store.cursor(feed);
    state["feeds"][feed] = {{"last_poll_time", cursor ? nlohmann::ordered_json(*cursor)
                                                      : nlohmann::ordered_json(nullptr)}};
  }
  return state;
}

RegistrationThread::RegistrationThread(ConnectorIdentity identity, const GraphqlOptions& graphql,
                                       const store::StoreOptions& database,
                                       std::vector<std::string> feeds, const Clock& clock,
                                       const ShutdownSignal& signal)
    : client_(std::make_unique<GraphqlClient>(graphql)),
      store_(store::open_store(database)),
      feeds_(std::move(feeds)),
      stop_(std::make_unique<Stop>(signal)) {
  registration_ = std::make_unique<ConnectorRegistration>(
      std::move(identity), *client_, [this] { return feed_cursors_state(*store_, feeds_); }, clock);
  thread_ = std::thread([this] {
    try {
      registration_->run(*stop_);
    } catch (const std::exception& e) {
      // Registration is a courtesy to the platform's screen: polling goes on without it.
      log_event(spdlog::level::err, "connector registration stopped", {{"error", e.what()}});
    }
  });
}

RegistrationThread::~RegistrationThread() {
  stop_->request();
  if (thread_.joinable()) thread_.join();
}

}  // namespace webhook::poller
