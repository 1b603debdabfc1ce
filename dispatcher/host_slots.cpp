#include "dispatcher/host_slots.h"

#include "dispatcher/url_origin.h"

namespace webhook::dispatcher {

std::string HostSlots::key(std::string_view url) {
  std::optional<UrlOrigin> origin = url_origin(url);
  return origin ? origin->text() : std::string(url);
}

int HostSlots::in_flight(const std::string& key) const {
  auto it = in_flight_.find(key);
  return it == in_flight_.end() ? 0 : it->second;
}

void HostSlots::finished(const std::string& key) {
  auto it = in_flight_.find(key);
  if (it == in_flight_.end()) return;
  if (--it->second <= 0) in_flight_.erase(it);
}

}  // namespace webhook::dispatcher
