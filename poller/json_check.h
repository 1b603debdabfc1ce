// Checks that a stream event's data is JSON without building it, for a feed whose
// templates never read the event (the defaults: the body is the data as received). It
// uses simdjson, which reads a few bytes per instruction where read_json builds a tree
// (callgrind: reading each event into a tree and freeing it was a third of an event's
// instructions). One per feed thread (the parser keeps its buffers); not thread-safe.
#pragma once

#include <memory>
#include <string_view>

namespace simdjson::dom {
class parser;
}

namespace webhook::poller {

class JsonCheck {
 public:
  JsonCheck();
  ~JsonCheck();
  JsonCheck(const JsonCheck&) = delete;
  JsonCheck& operator=(const JsonCheck&) = delete;

  // True when read_json(text) surely succeeds: simdjson is stricter than read_json (it
  // refuses lone surrogates, NaN, integers beyond 64 bits, numbers beyond double range and
  // invalid UTF-8, all of which read_json reads), it is asked for less depth, and a text
  // starting with a BOM (which read_json refuses) is not checked. False says nothing: read
  // the text with read_json to know, and why.
  bool surely_json(std::string_view text);

 private:
  std::unique_ptr<simdjson::dom::parser> parser_;  // simdjson.h stays out of this header
  bool ready_ = false;
};

}  // namespace webhook::poller
