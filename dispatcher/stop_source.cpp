#include "dispatcher/stop_source.h"

#include <fcntl.h>
#include <unistd.h>

#include <stdexcept>

namespace webhook::dispatcher {

ManualStopSource::ManualStopSource() {
  if (pipe2(pipe_, O_CLOEXEC | O_NONBLOCK) != 0) {
    throw std::runtime_error("cannot create the stop pipe");
  }
}

ManualStopSource::~ManualStopSource() {
  close(pipe_[0]);
  close(pipe_[1]);
}

void ManualStopSource::request() {
  count_.fetch_add(1);
  char byte = 1;
  [[maybe_unused]] auto n = write(pipe_[1], &byte, 1);
}

}  // namespace webhook::dispatcher
