// The factory's driver-neutral face: which store the options name, how it is described in
// logs and errors (never with the password), and the start-up check of a malformed URL.
#include "common/store/open_store.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "tests/support/store_fixtures.h"

namespace webhook::store {
namespace {

TEST(OpenStoreTest, DescribesEachStoreWithoutThePassword) {
  StoreOptions file;
  file.path = "data/webhook.db";
  EXPECT_EQ(describe_store(file), "SQLite file data/webhook.db");
  StoreOptions server;
  server.url = "postgresql://webhook:s3cr3t-pw@db.example:5432/queue?sslmode=require";
  EXPECT_EQ(describe_store(server),
            "PostgreSQL postgresql://webhook:***@db.example:5432/queue?sslmode=require");
  server.url = "postgresql://db.example/queue?user=webhook&password=s3cr3t-pw";
  EXPECT_EQ(describe_store(server).find("s3cr3t-pw"), std::string::npos) << describe_store(server);
}

TEST(OpenStoreTest, AMalformedUrlIsRefusedAtStartNamingTheSettingButNotThePassword) {
  StoreOptions server;
  server.url = "postgresql://webhook:s3cr3t-pw@db.example/queue?no_such_option=1";
  try {
    check_store_options(server);
    FAIL() << "accepted a malformed URL";
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("WEBHOOK_DATABASE_URL"), std::string::npos) << what;
    EXPECT_NE(what.find("no_such_option"), std::string::npos) << what;
    EXPECT_EQ(what.find("s3cr3t-pw"), std::string::npos) << what;
  }
  StoreOptions fine;
  fine.url = "postgresql://webhook@127.0.0.1:1/queue";
  EXPECT_NO_THROW(check_store_options(fine));
}

// A server that is not up is no reason to fail at open: the store connects at first use and
// each call fails with a clear error (callers retry) until the server answers.
TEST(OpenStoreTest, AnUnreachableServerFailsCallsNotTheOpen) {
  StoreOptions server;
  server.url = "postgresql://webhook:s3cr3t-pw@127.0.0.1:1/queue?connect_timeout=5";
  std::unique_ptr<JobStore> store;
  ASSERT_NO_THROW(store = open_store(server));
  try {
    store->cursor("default");
    FAIL() << "a call on an unreachable server succeeded";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("127.0.0.1"), std::string::npos) << what;
    EXPECT_EQ(what.find("s3cr3t-pw"), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace webhook::store
