// read_json against what Python 3.11's json.loads (after requests' UTF-8 decoding with
// errors="replace") gives for the same bytes, and write_json back.
#include "common/json_reader.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "common/json_bigint.h"
#include "common/json_writer.h"

namespace webhook {
namespace {

using Json = nlohmann::ordered_json;

Json read_ok(const std::string& text) {
  JsonReadResult r = read_json(text);
  EXPECT_TRUE(r.ok()) << text << ": " << r.error;
  return r.value;
}

// Same values as nlohmann's parser wherever both accept the input.
TEST(JsonReader, AgreesWithNlohmannOnOrdinaryDocuments) {
  for (const char* text : {
           R"({"data":{"works":{"edges":[{"node":{"id":"w1","n":5,"f":2.5,"neg":-3}}]}}})",
           R"( [1, -0, 0.5, 1e5, 1E-3, -2.5e+2, true, false, null, "", "é中😀"] )",
           R"({"a":{"b":[[],{}]},"esc":"\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"})",
           "9223372036854775807",
           "-9223372036854775808",
           "123456789012345678",
           "\t\r\n 7 \n",
       }) {
    EXPECT_EQ(read_ok(text), Json::parse(text)) << text;
  }
}

TEST(JsonReader, AcceptsWhatPythonAcceptsAndNlohmannRefuses) {
  Json v = read_ok(R"(["lone-\ud800-x", "\udc00\ud800", 1e999, -1e999, 1e-999, NaN, Infinity,)"
                   R"( -Infinity, 0.0000001e-400, 123e400])");
  EXPECT_EQ(v[0].get<std::string>(), "lone-\xED\xA0\x80-x");  // generalized UTF-8
  EXPECT_EQ(v[1].get<std::string>(), "\xED\xB0\x80\xED\xA0\x80");
  EXPECT_TRUE(std::isinf(v[2].get<double>()) && v[2].get<double>() > 0);
  EXPECT_TRUE(std::isinf(v[3].get<double>()) && v[3].get<double>() < 0);
  EXPECT_EQ(v[4].get<double>(), 0.0);
  EXPECT_TRUE(std::isnan(v[5].get<double>()));
  EXPECT_TRUE(std::isinf(v[6].get<double>()));
  EXPECT_TRUE(std::isinf(v[7].get<double>()) && v[7].get<double>() < 0);
  EXPECT_EQ(v[8].get<double>(), 0.0);
  EXPECT_TRUE(std::isinf(v[9].get<double>()));
}

TEST(JsonReader, KeepsTheExactDigitsOfIntegersBeyond64Bits) {
  Json v = read_ok(
      "[123456789012345678901234567890, -9223372036854775809, 18446744073709551615,"
      " 9223372036854775808, 9223372036854775807]");
  const char* expected[] = {"123456789012345678901234567890", "-9223372036854775809",
                            "18446744073709551615", "9223372036854775808"};
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(is_json_bigint(v[i])) << v[i].dump();
    const auto& bytes = v[i].get_binary();
    EXPECT_EQ(std::string(bytes.begin(), bytes.end()), expected[i]);
  }
  EXPECT_TRUE(v[4].is_number_integer());
  EXPECT_EQ(write_json(v),
            "[123456789012345678901234567890,-9223372036854775809,18446744073709551615,"
            "9223372036854775808,9223372036854775807]");
}

TEST(JsonReader, ReplacesInvalidUtf8AsRequestsDecodingDid) {
  // b'\xed\xa0\x80'.decode('utf-8', 'replace') is three U+FFFD; a truncated sequence one.
  Json v = read_ok(
      "[\"a\xED\xA0\x80"
      "b\", \"\xE2\x82\", \"\xFF\", \"\xF0\x9F\x98\x80\"]");
  EXPECT_EQ(v[0].get<std::string>(),
            "a\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(v[1].get<std::string>(), "\xEF\xBF\xBD");
  EXPECT_EQ(v[2].get<std::string>(), "\xEF\xBF\xBD");
  EXPECT_EQ(v[3].get<std::string>(), "\xF0\x9F\x98\x80");
}

TEST(JsonReader, ARepeatedKeyKeepsItsFirstPlaceAndItsLastValue) {
  EXPECT_EQ(read_ok(R"({"a":1,"b":2,"a":3})").dump(), R"({"a":3,"b":2})");
  std::string big = "{";
  for (int i = 0; i < 40; ++i) big += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  big += "\"k7\":\"last\"}";
  Json v = read_ok(big);
  EXPECT_EQ(v.size(), 40u);
  EXPECT_EQ(v["k7"], "last");
  EXPECT_EQ(v.begin().key(), "k0");
}

// Each refusal with Python's own message for the same input.
TEST(JsonReader, RefusesWhatPythonRefusedSayingWhatAndWhere) {
  struct Case {
    std::string text;
    std::string error;
  };
  for (const Case& c : std::vector<Case>{
           {"[1,]", "Expecting value: line 1 column 4 (byte 3)"},
           {"01", "Extra data: line 1 column 2 (byte 1)"},
           {"[.5]", "Expecting value: line 1 column 2 (byte 1)"},
           {"\"\x01\"", "Invalid control character at: line 1 column 2 (byte 1)"},
           {"\"\\x\"", "Invalid \\escape: line 1 column 2 (byte 1)"},
           {"\"\\u12\"", "Invalid \\uXXXX escape: line 1 column 2 (byte 1)"},
           {"[1 2]", "Expecting ',' delimiter: line 1 column 4 (byte 3)"},
           {"{\"a\" 1}", "Expecting ':' delimiter: line 1 column 6 (byte 5)"},
           {"{'a':1}",
            "Expecting property name enclosed in double quotes: line 1 column 2 (byte 1)"},
           {"[\n\"abc", "Unterminated string starting at: line 2 column 1 (byte 2)"},
           {"nan", "Expecting value: line 1 column 1 (byte 0)"},
           {"-NaN", "Expecting value: line 1 column 1 (byte 0)"},
           {"", "Expecting value: line 1 column 1 (byte 0)"},
           {"[]\x0c", "Extra data: line 1 column 3 (byte 2)"},
           {"\xEF\xBB\xBF[]",
            "Unexpected UTF-8 BOM (decode using utf-8-sig): line 1 column 1 (byte 0)"},
       }) {
    JsonReadResult r = read_json(c.text);
    EXPECT_EQ(r.failure, JsonReadResult::Failure::kSyntax) << c.text;
    EXPECT_EQ(r.error, c.error) << c.text;
  }
}

TEST(JsonReader, RefusesAnIntegerOfMoreDigitsThanPythonConverts) {
  EXPECT_TRUE(read_json(std::string(4300, '7')).ok());
  JsonReadResult r = read_json("[" + std::string(4301, '7') + "]");
  EXPECT_EQ(r.failure, JsonReadResult::Failure::kTooManyDigits);
  EXPECT_NE(r.error.find("an integer of 4301 digits exceeds Python's limit of 4300"),
            std::string::npos)
      << r.error;
  EXPECT_EQ(r.offset, 1u);
  EXPECT_TRUE(read_json("1" + std::string(5000, '0') + ".5").ok());  // floats have no limit
}

TEST(JsonReader, StopsAtTheDepthLimitWithoutRecursing) {
  auto nested = [](int depth) {
    return R"({"node":{"id":"deep","x":)" + std::string(depth, '[') + std::string(depth, ']') +
           "}}";
  };
  EXPECT_TRUE(read_json(nested(kMaxJsonDepth - 2)).ok());  // two objects around the arrays
  JsonReadResult r = read_json(nested(kMaxJsonDepth - 1));
  EXPECT_EQ(r.failure, JsonReadResult::Failure::kTooDeep);
  EXPECT_NE(r.error.find("nested deeper than 1000 levels"), std::string::npos) << r.error;
  // 200,000 levels (the issue's 50,000 and more): refused at the limit, no stack used.
  r = read_json(nested(200'000));
  EXPECT_EQ(r.failure, JsonReadResult::Failure::kTooDeep);
  EXPECT_EQ(r.offset, 25u + kMaxJsonDepth - 2);
  std::string objects;
  for (int i = 0; i < 100'000; ++i) objects += "{\"a\":";
  EXPECT_EQ(read_json(objects).failure, JsonReadResult::Failure::kTooDeep);
}

TEST(JsonWriter, WritesWhatTheReaderKeptAsValidUtf8) {
  Json v = read_ok(R"({"s":"lone-\ud800-x","e":"é\u0001","n":[NaN,Infinity,-Infinity,2.5,-7]})");
  EXPECT_EQ(write_json(v),
            R"({"s":"lone-\ud800-x","e":"é\u0001","n":[NaN,Infinity,-Infinity,2.5,-7]})");
  EXPECT_EQ(write_json(Json("bad\xFF\xE2\x82")), R"("bad\ufffd\ufffd\ufffd")");
  Json deep = read_ok(std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']'));
  EXPECT_EQ(write_json(deep).size(), 2u * kMaxJsonDepth);
  EXPECT_EQ(write_json(read_ok(R"({"a":{},"b":[],"c":[{}]})")), R"({"a":{},"b":[],"c":[{}]})");
}

}  // namespace
}  // namespace webhook
