// The records a fake OpenCTI serves (works, users, threat actors) and the evaluation of a
// parsed GraphQL query against them: both filter syntaxes (5.x lists with filterMode, and
// the FilterGroup of 5.12 and later) with eq/not_eq/gt/gte/lt/lte/nil/not_nil on any field,
// `search`, ordering, `first`/`after` pagination with pageInfo, and `about { version }`.
// A record may become visible later than its own timestamps say (Elasticsearch refresh).
// Thread-safe: records may be added while queries are answered.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "tests/support/graphql_document.h"

namespace webhook::testing {

// A query the platform would refuse. `validation` errors come back as HTTP 400
// (GRAPHQL_VALIDATION_FAILED); the others as HTTP 200 with `errors` and this code.
class FakeQueryError : public std::runtime_error {
 public:
  FakeQueryError(std::string message, bool validation, std::string code)
      : std::runtime_error(std::move(message)), validation_(validation), code_(std::move(code)) {}
  bool validation() const { return validation_; }
  const std::string& code() const { return code_; }

 private:
  bool validation_;
  std::string code_;
};

struct FakeRecordsOptions {
  std::string version = "6.8.10";  // about { version }
  bool legacy_filters = true;      // accept 5.x `filters: [...]` with `filterMode`
  bool filter_groups = true;       // accept 5.12+ `filters: {mode, filters, filterGroups}`
  int default_page_size = 500;
  int max_page_size = 5000;
};

class FakeRecords {
 public:
  // `clock` decides which records are visible; it must outlive this object.
  FakeRecords(FakeRecordsOptions options, const Clock& clock);

  // Adds a node to `collection` (works, users or threatActors), visible from `visible_at`
  // (default: at once). Returns its sequence number (1, 2, ...).
  int64_t add(std::string_view collection, nlohmann::ordered_json node,
              std::optional<int64_t> visible_at = std::nullopt);
  std::size_t size(std::string_view collection) const;

  // The `data` member answering `operation`. Throws FakeQueryError.
  nlohmann::ordered_json evaluate(const GraphqlOperation& operation) const;

  // Realistic nodes. Times are epoch ms, written as OpenCTI writes DateTime (ISO-8601 UTC).
  static nlohmann::ordered_json work(std::string_view id, std::string_view connector_name,
                                     std::vector<std::string> messages, int64_t received_ms,
                                     int64_t completed_ms);
  static nlohmann::ordered_json user(std::string_view id, std::string_view email,
                                     int64_t created_ms);
  static nlohmann::ordered_json threat_actor(std::string_view id, std::string_view name,
                                             int confidence, int64_t updated_ms);
  static std::string iso_time(int64_t ms);

 private:
  struct Record {
    int64_t seq;
    int64_t visible_at;
    nlohmann::ordered_json node;
  };
  nlohmann::ordered_json connection(const GraphqlField& field, std::string_view collection) const;

  FakeRecordsOptions options_;
  const Clock& clock_;
  mutable std::mutex mutex_;
  std::vector<std::pair<std::string, Record>> records_;  // collection, record
  int64_t next_seq_ = 1;
};

}  // namespace webhook::testing
