// A delivery console on loopback over a seeded, real SQLite store, and a client for it:
// what the console's handler tests share. One per test; not thread-safe.
#pragma once

#include <httplib.h>

#include <memory>
#include <optional>
#include <string>

#include "common/clock.h"
#include "ctl/console/console_server.h"
#include "tests/support/console_seed.h"
#include "tests/support/store_fixtures.h"
#include "tests/support/temp_dir.h"

namespace webhook::ctl::console {

class ConsoleTestServer {
 public:
  explicit ConsoleTestServer(std::optional<std::string> token) {
    auto s = testing::open_test_store(db_);
    seed_ = testing::seed_console_store(*s, now_);
    std::vector<std::string> secrets = {"Bearer sk-live-4242"};
    if (token) secrets.push_back(*token);
    store_ = std::make_unique<ConsoleStore>(testing::open_test_store(db_),
                                            SecretMask(std::move(secrets)));
    auth_ = std::make_unique<ConsoleAuth>(token);
    ConsoleOptions options;
    options.port = 0;
    server_ = std::make_unique<ConsoleServer>(*store_, *auth_, clock_, options);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
  }

  httplib::Client& client() { return *client_; }
  const testing::ConsoleSeed& seed() const { return seed_; }
  const std::string& db() const { return db_; }
  int64_t now() const { return now_; }
  int port() const { return server_->port(); }

  // The job as the database holds it now, read through a connection of its own.
  store::JobRow row(const std::string& id) const {
    return testing::open_test_store(db_)->job(id).value().job;
  }

  // GET `path`, failing the test on a transport error.
  httplib::Result get(const std::string& path, const httplib::Headers& headers = {}) {
    auto r = client_->Get(path, headers);
    EXPECT_TRUE(r) << "GET " << path << ": " << httplib::to_string(r.error());
    return r;
  }
  httplib::Result post(const std::string& path, const httplib::Params& form,
                       const httplib::Headers& headers = {}) {
    auto r = client_->Post(path, headers, form);
    EXPECT_TRUE(r) << "POST " << path << ": " << httplib::to_string(r.error());
    return r;
  }

 private:
  testing::TempDir dir_;
  std::string db_ = dir_.file("queue.db");
  int64_t now_ = SystemClock().now_ms();
  testing::ConsoleSeed seed_;
  SystemClock clock_;
  std::unique_ptr<ConsoleStore> store_;
  std::unique_ptr<ConsoleAuth> auth_;
  std::unique_ptr<ConsoleServer> server_;
  std::unique_ptr<httplib::Client> client_;
};

// The value of `name="csrf" value="..."` in a page.
inline std::string csrf_of(const std::string& html) {
  const std::string marker = "name=\"csrf\" value=\"";
  auto at = html.find(marker);
  if (at == std::string::npos) return {};
  at += marker.size();
  return html.substr(at, html.find('"', at) - at);
}

}  // namespace webhook::ctl::console
