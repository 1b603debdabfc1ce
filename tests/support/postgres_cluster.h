// A throwaway PostgreSQL 15 cluster for tests: a temporary folder holding a copy of a data
// directory initdb made once per build tree (as the unprivileged `postgres` user when the
// tests run as root, since the server refuses root),
// listening on 127.0.0.1 only, on a free port, trust authentication for its own superuser.
// Stopped (pg_ctl stop -m immediate) and removed by the destructor, whatever the tests did.
// If it cannot start, the constructor throws: tests fail loudly, never skip.
// shared() gives one per test process; fresh_database() a new empty database on it.
// With options, a server elsewhere: inside a test host's network namespace (every pg_ctl
// run under `run_prefix`, e.g. "ip netns exec NS"), listening on that host's address only.
// Not thread-safe.
#pragma once

#include <string>

namespace webhook::testing {

struct PostgresClusterOptions {
  std::string listen_address = "127.0.0.1";  // the only address the server listens on
  int port = 0;                              // 0: a free port on 127.0.0.1
  std::string run_prefix;  // what every command (cp, pg_ctl) runs under; "" for none
  std::string settings;    // more server settings, "-c name=value ..."
  // Clients trusted besides loopback, as a pg_hba.conf address ("10.77.0.0/24"); "" none.
  std::string trusted_network;
};

class PostgresCluster {
 public:
  explicit PostgresCluster(PostgresClusterOptions options = {});
  ~PostgresCluster();
  PostgresCluster(const PostgresCluster&) = delete;
  PostgresCluster& operator=(const PostgresCluster&) = delete;

  // The cluster of this test process, started at first use.
  static PostgresCluster& shared();

  int port() const { return port_; }
  const std::string& data_dir() const { return data_dir_; }
  // postgresql://webhook@<listen address>:<port>/<database>
  std::string url(const std::string& database = "postgres") const;
  // Creates an empty database with a new name and returns its URL.
  std::string fresh_database();
  // A crash and what follows it, for fault tests: stop() kills the server at once (pg_ctl
  // stop -m immediate: no shutdown checkpoint, clients cut off); start() brings it back on the
  // same port, recovering from its WAL; restart() is both in one step.
  void stop();
  void start();
  void restart();
  // Runs pg_ctl with `arguments` as the cluster's owner (e.g. "restart -m immediate -w").
  void pg_ctl(const std::string& arguments) const;

 private:
  std::string run_as_owner(const std::string& command) const;
  // The template's data directory, made by initdb if it does not exist yet.
  std::string template_data_dir() const;

  PostgresClusterOptions options_;
  std::string root_;      // the temporary folder
  std::string data_dir_;  // root_/data
  std::string bin_dir_;
  std::string owner_;  // empty: the current user
  int port_ = 0;
  int databases_ = 0;
  bool running_ = false;
};

}  // namespace webhook::testing
