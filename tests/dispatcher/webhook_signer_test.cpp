#include "dispatcher/webhook_signer.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/support/child_process.h"
#include "tests/support/temp_dir.h"

namespace webhook::dispatcher {
namespace {

// The example of the Standard Webhooks specification (and of every reference library).
TEST(WebhookSigner, MatchesTheStandardWebhooksTestVector) {
  WebhookSigner signer("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  EXPECT_EQ(signer.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, R"({"test": 2432232314})"),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

// Python's hmac module, not OpenSSL, checks our signatures over awkward bodies.
TEST(WebhookSigner, AgreesWithPythonsHmac) {
  testing::TempDir dir;
  const std::string secret = "whsec_" + base64_encode("a key with \x01 bytes \xff");
  const std::string body = "{\"name\": \"caf\xc3\xa9\", \"n\": [1, 2]}\n.";
  const std::string body_file = dir.write("body", body);
  WebhookSigner signer(secret);
  const std::string signature =
      signer.sign("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", 1700000000, body);
  const std::string script =
      "import base64,hashlib,hmac,sys\n"
      "key = base64.b64decode(sys.argv[1][len('whsec_'):])\n"
      "msg = (sys.argv[2] + '.' + sys.argv[3] + '.').encode() + open(sys.argv[4], 'rb').read()\n"
      "print('v1,' + base64.b64encode(hmac.new(key, msg, hashlib.sha256).digest()).decode())\n";
  auto result =
      testing::run_command({"python3", "-c", script, secret, "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
                            "1700000000", body_file});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(signature, result.out.substr(0, result.out.find('\n')));
}

TEST(WebhookSigner, RejectsSecretsThatAreNotWhsecBase64WithoutEchoingThem) {
  for (const char* bad : {"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_", "whsec_not*base64!"}) {
    try {
      WebhookSigner signer(bad);
      ADD_FAILURE() << "accepted " << bad;
    } catch (const std::invalid_argument& error) {
      std::string payload =
          std::string(bad).rfind("whsec_", 0) == 0 ? std::string(bad).substr(6) : std::string(bad);
      if (!payload.empty()) {
        EXPECT_EQ(std::string(error.what()).find(payload), std::string::npos);
      }
      EXPECT_NE(std::string(error.what()).find("WEBHOOK_SECRET"), std::string::npos);
    }
  }
}

TEST(WebhookSigner, Base64RoundTripsWithAndWithoutPadding) {
  for (std::string text : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    std::string encoded = base64_encode(text);
    std::vector<unsigned char> decoded;
    while (!encoded.empty() && encoded.back() == '=') {
      if (!text.empty()) {
        ASSERT_TRUE(base64_decode(encoded, decoded)) << encoded;
        EXPECT_EQ(std::string(decoded.begin(), decoded.end()), text);
      }
      encoded.pop_back();
    }
    if (text.empty()) continue;
    ASSERT_TRUE(base64_decode(encoded, decoded)) << encoded;
    EXPECT_EQ(std::string(decoded.begin(), decoded.end()), text);
  }
}

}  // namespace
}  // namespace webhook::dispatcher
