// Whether this process can reach its database server, for metrics: the server store's
// connections report when one is cut off or fails to connect, and when one connects again;
// the latest report wins (they all talk to one server, and a connection left idle after a
// failure must not keep the process "down" once the others are back). Observers (the
// metrics) hear of every report. A file store never reports, so it is always reachable.
// Process-wide; thread-safe (the loops' and the health probe's connections report from
// their own threads).
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <mutex>

namespace webhook::store {

class StoreConnectivity {
 public:
  // (reachable, reconnects so far): reachable unless the latest report was a failure;
  // reconnects counts connections that came back after being cut off or unreachable.
  using Observer = std::function<void(bool reachable, int64_t reconnects)>;

  static StoreConnectivity& process();

  // Until the returned Subscription is destroyed, `observer` is called with the state now
  // and at every change (on the reporting thread, under a lock: keep it quick).
  class Subscription {
   public:
    Subscription() = default;
    ~Subscription();
    Subscription(Subscription&& other) noexcept;
    Subscription& operator=(Subscription&& other) noexcept;

   private:
    friend class StoreConnectivity;
    StoreConnectivity* owner_ = nullptr;
    std::list<Observer>::iterator at_;
  };
  [[nodiscard]] Subscription observe(Observer observer);

  // A connection was cut off, or an attempt to connect failed.
  void cut_off();
  // A connection connected; `after_outage`: it had been cut off or unreachable (a reconnect).
  void connected(bool after_outage);

  bool reachable() const;
  int64_t reconnects() const;

 private:
  void changed();  // REQUIRES: mutex_ held

  mutable std::mutex mutex_;
  bool reachable_ = true;
  int64_t reconnects_ = 0;
  std::list<Observer> observers_;
};

}  // namespace webhook::store
