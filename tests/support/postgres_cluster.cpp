#include "tests/support/postgres_cluster.h"

#include <arpa/inet.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <utility>

namespace webhook::testing {
namespace {

constexpr const char* kBinDir = "/usr/lib/postgresql/15/bin";

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("PostgresCluster: socket() failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    ::close(fd);
    throw std::runtime_error("PostgresCluster: cannot find a free port");
  }
  const int port = ntohs(address.sin_port);
  ::close(fd);
  return port;
}

// Our own paths (no spaces or quotes) are passed unquoted; the whole command is quoted once.
std::string quoted(const std::string& text) { return "'" + text + "'"; }

constexpr const char* kInitdbOptions =
    "--username=webhook --auth=trust --encoding=UTF8 --no-instructions";

#ifndef WEBHOOK_BINARY_DIR
#define WEBHOOK_BINARY_DIR ""
#endif

// Where the data directory every cluster of this build tree starts from is kept: initdb
// takes seconds, a copy a fraction of one. Named after the build tree, the server and the
// initdb options, so a change of any of them makes a new one; under /tmp so that the
// unprivileged owner can read it.
std::string template_root() {
  const std::size_t key = std::hash<std::string>{}(std::string(WEBHOOK_BINARY_DIR) + "|" + kBinDir +
                                                   "|" + kInitdbOptions);
  char name[96];
  std::snprintf(name, sizeof name, "/tmp/webhook-pg-template-%u-%016zx",
                static_cast<unsigned>(::geteuid()), key);
  return name;
}

}  // namespace

PostgresCluster::PostgresCluster(PostgresClusterOptions options)
    : options_(std::move(options)), bin_dir_(kBinDir) {
  namespace fs = std::filesystem;
  if (!fs::exists(bin_dir_ + "/initdb")) {
    throw std::runtime_error("PostgresCluster: " + bin_dir_ +
                             "/initdb not found; run scripts/install-deps.sh (postgresql-15)");
  }
  char pattern[] = "/tmp/webhook-pg-XXXXXX";
  if (::mkdtemp(pattern) == nullptr) throw std::runtime_error("PostgresCluster: mkdtemp failed");
  root_ = pattern;
  data_dir_ = root_ + "/data";
  if (::geteuid() == 0) {
    // The server refuses to run as root: the Debian package's `postgres` user owns it.
    passwd* user = ::getpwnam("postgres");
    if (user == nullptr) throw std::runtime_error("PostgresCluster: no `postgres` user");
    owner_ = "postgres";
    if (::chown(root_.c_str(), user->pw_uid, user->pw_gid) != 0) {
      throw std::runtime_error("PostgresCluster: cannot give " + root_ + " to postgres");
    }
  }
  fs::permissions(root_, fs::perms::owner_all);
  try {
    // A copy of the template (made by initdb once, see template_root): a cluster of its
    // own, sharing nothing with the others.
    const std::string from = template_data_dir();
    run_as_owner("cp -a " + from + " " + data_dir_ + " >" + root_ + "/initdb.log 2>&1");
    if (!options_.trusted_network.empty()) {
      // Appended as root to the owner's file: it stays the owner's.
      std::ofstream hba(data_dir_ + "/pg_hba.conf", std::ios::app);
      hba << "host all all " << options_.trusted_network << " trust\n";
      if (!hba) throw std::runtime_error("PostgresCluster: cannot write pg_hba.conf");
    }
    port_ = options_.port != 0 ? options_.port : free_port();
    start();
  } catch (...) {
    std::error_code ec;
    fs::remove_all(root_, ec);
    throw;
  }
}

std::string PostgresCluster::template_data_dir() const {
  namespace fs = std::filesystem;
  const std::string root = template_root();
  if (fs::exists(root + "/data/PG_VERSION")) return root + "/data";
  // Made aside, then renamed into place in one step: a test process starting meanwhile
  // never copies half a template; when two make one at once, the first rename wins.
  const std::string building = root_ + "-template";
  fs::create_directory(building);
  if (!owner_.empty()) {
    passwd* user = ::getpwnam(owner_.c_str());
    if (user == nullptr || ::chown(building.c_str(), user->pw_uid, user->pw_gid) != 0) {
      throw std::runtime_error("PostgresCluster: cannot give " + building + " to " + owner_);
    }
  }
  fs::permissions(building, fs::perms::owner_all);
  try {
    run_as_owner(bin_dir_ + "/initdb --pgdata=" + building + "/data " + kInitdbOptions + " >" +
                 root_ + "/initdb.log 2>&1");
  } catch (...) {
    std::error_code ec;
    fs::remove_all(building, ec);
    throw;
  }
  if (::rename(building.c_str(), root.c_str()) != 0) {
    std::error_code ec;
    fs::remove_all(building, ec);  // another process's template won
  }
  return root + "/data";
}

PostgresCluster::~PostgresCluster() {
  try {
    if (running_) pg_ctl("stop -m immediate -w");
  } catch (...) {  // still remove the folder
  }
  std::error_code ec;
  std::filesystem::remove_all(root_, ec);
}

void PostgresCluster::start() {
  pg_ctl("start -w -t 60 -l " + root_ + "/server.log" +
         " -o \"-c listen_addresses=" + options_.listen_address +
         " -c port=" + std::to_string(port_) + " -c unix_socket_directories=" + root_ +
         " -c fsync=on -c synchronous_commit=on " + options_.settings + "\"");
  running_ = true;
}

void PostgresCluster::stop() {
  // Immediate: the server dies as if it crashed (no checkpoint); the next start recovers.
  pg_ctl("stop -m immediate -w -t 60");
  running_ = false;
}

void PostgresCluster::restart() {
  // The same port and options as the first start (pg_ctl keeps them in postmaster.opts).
  pg_ctl("restart -m immediate -w -t 60 -l " + root_ + "/server.log");
  running_ = true;
}

PostgresCluster& PostgresCluster::shared() {
  static PostgresCluster cluster;
  return cluster;
}

std::string PostgresCluster::url(const std::string& database) const {
  return "postgresql://webhook@" + options_.listen_address + ":" + std::to_string(port_) + "/" +
         database;
}

std::string PostgresCluster::fresh_database() {
  const std::string name =
      "test_" + std::to_string(::getpid()) + "_" + std::to_string(++databases_);
  PGconn* conn = PQconnectdb(url().c_str());
  const bool connected = PQstatus(conn) == CONNECTION_OK;
  PGresult* r = connected ? PQexec(conn, ("CREATE DATABASE " + name).c_str()) : nullptr;
  const bool ok = r != nullptr && PQresultStatus(r) == PGRES_COMMAND_OK;
  const std::string error = PQerrorMessage(conn);
  PQclear(r);
  PQfinish(conn);
  if (!ok) throw std::runtime_error("PostgresCluster: CREATE DATABASE failed: " + error);
  return url(name);
}

void PostgresCluster::pg_ctl(const std::string& arguments) const {
  run_as_owner(bin_dir_ + "/pg_ctl --pgdata=" + data_dir_ + " " + arguments + " >>" + root_ +
               "/pg_ctl.log" + " 2>&1");
}

std::string PostgresCluster::run_as_owner(const std::string& command) const {
  const std::string as_owner =
      owner_.empty() ? command : "runuser -u " + owner_ + " -- sh -c " + quoted(command);
  const std::string full =
      options_.run_prefix.empty() ? as_owner : options_.run_prefix + " " + as_owner;
  const int status = std::system(full.c_str());
  if (status != 0) {
    std::string logs;
    for (const char* name : {"/initdb.log", "/pg_ctl.log", "/server.log"}) {
      std::FILE* f = std::fopen((root_ + name).c_str(), "r");
      if (f == nullptr) continue;
      char buffer[4096];
      std::size_t n = std::fread(buffer, 1, sizeof buffer - 1, f);
      buffer[n] = '\0';
      logs += std::string("\n") + name + ": " + buffer;
      std::fclose(f);
    }
    throw std::runtime_error("PostgresCluster: `" + command + "` failed" + logs);
  }
  return full;
}

}  // namespace webhook::testing
