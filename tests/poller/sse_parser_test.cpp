// The SSE parser against the rules of WHATWG HTML § "Interpreting an event stream", each
// stream also fed in every split into two chunks and one byte at a time.
#include "poller/sse_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace webhook::poller {
namespace {

using namespace std::string_literals;

struct Seen {
  std::string type;
  std::string data;
  std::string id;
  bool has_id;
  bool operator==(const Seen&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Seen& s) {
  return os << "{" << s.type << ", '" << s.data << "', id '" << s.id << "'" << (s.has_id ? "+" : "")
            << "}";
}

std::vector<Seen> parse_chunks(const std::vector<std::string_view>& chunks,
                               std::string initial_id = {}) {
  SseParser parser(std::move(initial_id));
  std::vector<Seen> seen;
  for (auto chunk : chunks) {
    EXPECT_TRUE(parser.feed(chunk, [&](SseEvent&& e) {
      seen.push_back({e.type, e.data, e.last_event_id, e.has_id});
    }));
  }
  return seen;
}

struct Case {
  const char* name;
  std::string stream;
  std::vector<Seen> events;
};

const std::vector<Case>& cases() {
  static const std::vector<Case> kCases = {
      {"OpenCtiEvent",
       "id: 1679004823824-0\nevent: create\ndata: {\"type\":\"create\"}\n\n",
       {{"create", "{\"type\":\"create\"}", "1679004823824-0", true}}},
      {"CrLfLineEnds",
       "id: 1-0\r\nevent: update\r\ndata: x\r\n\r\n",
       {{"update", "x", "1-0", true}}},
      {"CrLineEnds", "id: 1-0\revent: update\rdata: x\r\r", {{"update", "x", "1-0", true}}},
      {"MixedLineEnds", "data: a\r\ndata: b\rdata: c\n\r\n", {{"message", "a\nb\nc", "", false}}},
      {"DataWithoutSpace", "data:x\n\n", {{"message", "x", "", false}}},
      {"OnlyOneSpaceRemoved", "data:  x \n\n", {{"message", " x ", "", false}}},
      {"MultiLineDataJoinedWithLf",
       "data: one\ndata: two\ndata:\n\n",
       {{"message", "one\ntwo\n", "", false}}},
      {"FieldWithoutColonIsEmptyValue", "data\n\n", {{"message", "", "", false}}},
      {"EventWithoutDataIsNotDispatched",
       "event: heartbeat\nid: 5-0\n\ndata: y\n\n",
       {{"message", "y", "5-0", false}}},
      {"CommentsIgnored", ": keep-alive\ndata: x\n: another\n\n", {{"message", "x", "", false}}},
      {"UnknownFieldsIgnored", "foo: bar\ndata: x\nDATA: no\n\n", {{"message", "x", "", false}}},
      {"IdPersistsAcrossEvents",
       "id: 7-1\ndata: a\n\ndata: b\n\n",
       {{"message", "a", "7-1", true}, {"message", "b", "7-1", false}}},
      {"EmptyIdResetsIt",
       "id: 7-1\ndata: a\n\nid\ndata: b\n\n",
       {{"message", "a", "7-1", true}, {"message", "b", "", true}}},
      {"IdWithNulIgnored",
       "id: 7-1\ndata: a\n\nid: 8\0-0\ndata: b\n\n"s,
       {{"message", "a", "7-1", true}, {"message", "b", "7-1", false}}},
      {"EventTypeResetAfterDispatch",
       "event: delete\ndata: a\n\ndata: b\n\n",
       {{"delete", "a", "", false}, {"message", "b", "", false}}},
      {"IncompleteEventAtEndNotDispatched", "data: a\n\ndata: b\n", {{"message", "a", "", false}}},
      {"LeadingBomDropped",
       "\xEF\xBB\xBF"
       "data: x\n\n",
       {{"message", "x", "", false}}},
      {"BomLaterIsData",
       "data: x\n\n\xEF\xBB\xBF"
       "data: y\n\n",
       {{"message", "x", "", false}}},
      {"ValueKeepsColons", "data: a:b: c\n\n", {{"message", "a:b: c", "", false}}},
      {"NonAsciiBytesKept",
       "data: \xC3\xA9t\xC3\xA9\n\n",
       {{"message", "\xC3\xA9t\xC3\xA9", "", false}}},
      {"BlankLinesBetweenEvents", "\n\n\ndata: x\n\n\n", {{"message", "x", "", false}}},
  };
  return kCases;
}

class SseParserCases : public ::testing::TestWithParam<Case> {};

TEST_P(SseParserCases, WholeStream) {
  EXPECT_EQ(parse_chunks({GetParam().stream}), GetParam().events);
}

TEST_P(SseParserCases, EverySplitIntoTwoChunks) {
  const std::string& s = GetParam().stream;
  for (std::size_t cut = 0; cut <= s.size(); ++cut) {
    std::string_view all(s);
    EXPECT_EQ(parse_chunks({all.substr(0, cut), all.substr(cut)}), GetParam().events)
        << "cut at " << cut;
  }
}

TEST_P(SseParserCases, OneByteAtATime) {
  const std::string& s = GetParam().stream;
  std::vector<std::string_view> bytes;
  for (std::size_t i = 0; i < s.size(); ++i) bytes.push_back(std::string_view(s).substr(i, 1));
  EXPECT_EQ(parse_chunks(bytes), GetParam().events);
}

INSTANTIATE_TEST_SUITE_P(Spec, SseParserCases, ::testing::ValuesIn(cases()),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(SseParser, StartsFromTheResumedId) {
  EXPECT_EQ(parse_chunks({"event: connected\ndata: {}\n\n"}, "42-3"),
            (std::vector<Seen>{{"connected", "{}", "42-3", false}}));
}

TEST(SseParser, RetryTakesOnlyDigits) {
  SseParser parser;
  auto ignore = [](SseEvent&&) {};
  EXPECT_TRUE(parser.feed("retry: 2500\n", ignore));
  EXPECT_EQ(parser.retry_ms(), 2500);
  EXPECT_TRUE(parser.feed("retry: 3s\nretry: -1\nretry:\n", ignore));
  EXPECT_EQ(parser.retry_ms(), 2500);
  EXPECT_TRUE(parser.feed("retry:100\n", ignore));
  EXPECT_EQ(parser.retry_ms(), 100);
}

TEST(SseParser, SaysWhenAnEventIsCutPartWay) {
  SseParser parser;
  auto ignore = [](SseEvent&&) {};
  EXPECT_FALSE(parser.in_event());
  EXPECT_TRUE(parser.feed("id: 1-0\nevent: create\n", ignore));
  EXPECT_TRUE(parser.in_event());
  EXPECT_TRUE(parser.feed("data: x\n\n", ignore));
  EXPECT_FALSE(parser.in_event());
  EXPECT_TRUE(parser.feed("data: {\"par", ignore));
  EXPECT_TRUE(parser.in_event());
}

TEST(SseParser, RefusesAnEventPastTheLimit) {
  SseParser parser({}, 100);
  int events = 0;
  auto count = [&](SseEvent&&) { ++events; };
  EXPECT_TRUE(parser.feed("data: " + std::string(80, 'a') + "\n\n", count));
  EXPECT_EQ(events, 1);
  EXPECT_FALSE(
      parser.feed("data: " + std::string(60, 'a') + "\ndata: " + std::string(60, 'b'), count));
  EXPECT_NE(parser.error().find("100 bytes"), std::string::npos);
  EXPECT_FALSE(parser.feed("\n\n", count));
  EXPECT_EQ(events, 1);
}

}  // namespace
}  // namespace webhook::poller
