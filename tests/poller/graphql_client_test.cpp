#include "poller/graphql_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "tests/support/child_process.h"
#include "tests/support/fake_opencti.h"
#include "tests/support/temp_dir.h"

namespace webhook::poller {
namespace {

using testing::FakeFailure;
using testing::FakeOpencti;
using Json = nlohmann::ordered_json;
using Kind = FakeFailure::Kind;

GraphqlOptions options_for(const FakeOpencti& fake) {
  GraphqlOptions options;
  options.url = fake.url();
  options.token = fake.token();
  options.timeout = std::chrono::milliseconds(2000);
  return options;
}

const char* kWorksQuery = "{works{edges{node{id}}}}";

TEST(GraphqlClient, PostsQueryAndVariablesAsOpenctisPythonClientDoes) {
  FakeOpencti fake;
  GraphqlOptions options = options_for(fake);
  options.url += "/";  // a trailing slash is tolerated
  options.custom_headers = parse_custom_headers("X-Tenant: blue ; X-Trace:abc:def");
  GraphqlClient client(options);
  GraphqlResponse about = client.about();
  ASSERT_TRUE(about.ok()) << about.error;
  EXPECT_EQ(about.document["data"]["about"]["version"], "6.8.10");

  GraphqlResponse works = client.execute(kWorksQuery, Json{{"after", nullptr}});
  ASSERT_TRUE(works.ok()) << works.error;
  auto requests = fake.requests();
  ASSERT_EQ(requests.size(), 2u);
  const auto& r = requests[1];
  EXPECT_EQ(r.path, "/graphql");
  EXPECT_EQ(r.headers.at("authorization"), "Bearer " + fake.token());
  EXPECT_EQ(r.headers.at("user-agent"), std::string("opencti-webhook/") + WEBHOOK_VERSION);
  EXPECT_EQ(r.headers.at("content-type"), "application/json");
  EXPECT_EQ(r.headers.at("x-tenant"), "blue");
  EXPECT_EQ(r.headers.at("x-trace"), "abc:def");
  Json body = Json::parse(r.body);
  EXPECT_EQ(body, (Json{{"query", kWorksQuery}, {"variables", {{"after", nullptr}}}}));
}

TEST(GraphqlClient, CustomHeadersThatAreMalformedAreRefusedNamingTheSetting) {
  EXPECT_TRUE(parse_custom_headers("").empty());
  EXPECT_EQ(parse_custom_headers("a:1;;b:2;").size(), 2u);
  try {
    parse_custom_headers("good:1;no-colon");
    FAIL() << "accepted a header without a colon";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("OPENCTI_CUSTOM_HEADERS: entry 2"), std::string::npos);
  }
  EXPECT_THROW(parse_custom_headers("bad name:1"), std::invalid_argument);
}

TEST(GraphqlClient, EndpointToleratesTrailingSlashes) {
  EXPECT_EQ(graphql_endpoint_url("http://opencti:8080"), "http://opencti:8080/graphql");
  EXPECT_EQ(graphql_endpoint_url("http://opencti:8080//"), "http://opencti:8080/graphql");
  EXPECT_EQ(graphql_endpoint_url(" https://x/base/ "), "https://x/base/graphql");
}

struct FailureCase {
  const char* name;
  FakeFailure failure;
  const char* expected_in_error;
  const char* expected_code;
};

TEST(GraphqlClient, EveryKindOfBadAnswerIsAnErrorThatSaysWhatHappened) {
  FakeOpencti fake;
  GraphqlOptions options = options_for(fake);
  options.timeout = std::chrono::milliseconds(300);
  options.max_response_bytes = 64 * 1024;
  GraphqlClient client(options);
  const FailureCase cases[] = {
      {"502", FakeFailure::http_status(502), "HTTP 502 from OpenCTI at", ""},
      {"400 errors", FakeFailure::bad_request("GRAPHQL_VALIDATION_FAILED", "Unknown argument"),
       "HTTP 400: GRAPHQL_VALIDATION_FAILED: Unknown argument", "GRAPHQL_VALIDATION_FAILED"},
      {"200 errors", FakeFailure::graphql_errors("FORBIDDEN_ACCESS", "You are not allowed"),
       "FORBIDDEN_ACCESS: You are not allowed", "FORBIDDEN_ACCESS"},
      {"not json", FakeFailure::of(Kind::kMalformedJson), "a body that is not JSON", ""},
      {"empty", FakeFailure::of(Kind::kEmptyBody), "an empty body", ""},
      {"truncated json", FakeFailure::of(Kind::kTruncatedJson), "not JSON", ""},
      {"truncated transfer", FakeFailure::of(Kind::kTruncatedTransfer), "cannot get an answer", ""},
      {"huge", FakeFailure::huge(200 * 1024), "larger than 65536 bytes", ""},
      {"stall", FakeFailure::stalled(std::chrono::seconds(5)), "WEBHOOK_GRAPHQL_TIMEOUT", ""},
  };
  for (const auto& c : cases) {
    fake.records().add("works", testing::FakeRecords::work("w1", "Import", {"done"}, 1, 2));
    fake.fail_next(c.failure);
    GraphqlResponse r = client.execute(kWorksQuery, Json::object());
    EXPECT_FALSE(r.ok()) << c.name;
    EXPECT_NE(r.error.find(c.expected_in_error), std::string::npos) << c.name << ": " << r.error;
    EXPECT_EQ(r.code, c.expected_code) << c.name;
    EXPECT_EQ(r.error.find(fake.token()), std::string::npos) << c.name;
    fake.release_stalls();
    // The same client works again right after.
    GraphqlResponse good = client.execute(kWorksQuery, Json::object());
    EXPECT_TRUE(good.ok()) << c.name << " then: " << good.error;
  }
}

TEST(GraphqlClient, AWrongTokenIsAuthRequiredWithoutTheTokenInTheMessage) {
  FakeOpencti fake;
  GraphqlOptions options = options_for(fake);
  options.token = "wrong-secret-token-value";
  GraphqlClient client(options);
  GraphqlResponse r = client.about();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.http_status, 401);
  EXPECT_EQ(r.code, "AUTH_REQUIRED");
  EXPECT_NE(r.error.find("HTTP 401: AUTH_REQUIRED: You must be logged in"), std::string::npos)
      << r.error;
  EXPECT_EQ(r.error.find(options.token), std::string::npos);
}

TEST(GraphqlClient, APlatformThatIsDownIsAnErrorNamingTheUrl) {
  std::string url;
  {
    FakeOpencti fake;
    url = fake.url();
  }  // nothing listens on that port any more
  GraphqlOptions options;
  options.url = url;
  options.token = "secret-token-1234";
  GraphqlClient client(options);
  GraphqlResponse r = client.about();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.http_status, 0);
  EXPECT_NE(r.error.find("cannot get an answer from OpenCTI at " + url + "/graphql"),
            std::string::npos)
      << r.error;
}

TEST(GraphqlClient, ATlsFailureSaysHowToTrustTheCertificate) {
  // A plain-HTTP server spoken to over https fails the TLS handshake.
  FakeOpencti fake;
  GraphqlOptions options = options_for(fake);
  options.url = "https://127.0.0.1:" + std::to_string(fake.port());
  GraphqlClient client(options);
  GraphqlResponse r = client.about();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error.find("OPENCTI_CA_FILE"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("OPENCTI_SSL_VERIFY=false"), std::string::npos) << r.error;
}

TEST(GraphqlClient, APrivateCaGivenInTheCaFileIsTrusted) {
  testing::TempDir dir;
  auto made =
      testing::run_command({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days",
                            "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                            "-keyout", dir.file("key.pem"), "-out", dir.file("cert.pem")});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  testing::FakeOpenctiOptions tls;
  tls.tls_cert_file = dir.file("cert.pem");
  tls.tls_key_file = dir.file("key.pem");
  FakeOpencti fake(tls);
  ASSERT_EQ(fake.url().rfind("https://", 0), 0u);

  GraphqlOptions options = options_for(fake);
  GraphqlResponse unknown_ca = GraphqlClient(options).about();
  ASSERT_FALSE(unknown_ca.ok());
  EXPECT_NE(unknown_ca.error.find("TLS failure"), std::string::npos) << unknown_ca.error;
  EXPECT_NE(unknown_ca.error.find("set OPENCTI_CA_FILE"), std::string::npos) << unknown_ca.error;

  options.ca_file = dir.file("cert.pem");
  GraphqlResponse trusted = GraphqlClient(options).about();
  EXPECT_TRUE(trusted.ok()) << trusted.error;

  options.ca_file.clear();
  options.ssl_verify = false;
  GraphqlResponse unverified = GraphqlClient(options).about();
  EXPECT_TRUE(unverified.ok()) << unverified.error;
}

TEST(GraphqlClient, CancelAbandonsARequestInFlight) {
  FakeOpencti fake;
  GraphqlOptions options = options_for(fake);
  options.timeout = std::chrono::seconds(30);
  GraphqlClient client(options);
  fake.fail_next(FakeFailure::stalled(std::chrono::seconds(30)));
  std::atomic<bool> stop{false};
  std::thread stopper([&] {
    while (fake.request_count() == 0) std::this_thread::yield();
    stop = true;
  });
  GraphqlResponse r = client.execute(kWorksQuery, Json::object(), [&] { return stop.load(); });
  stopper.join();
  fake.release_stalls();
  EXPECT_TRUE(r.cancelled);
  EXPECT_FALSE(r.ok());
}

}  // namespace
}  // namespace webhook::poller
