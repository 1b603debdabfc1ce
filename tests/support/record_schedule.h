// Produces OpenCTI records over time for end-to-end runs: one record every `every` (works,
// users or threat actors, cycling through the kinds asked for), each visible `lag` after its
// timestamp, and keeps the ground truth (every record, when it was made and when it became
// visible), optionally appended to a JSON-lines file. Owns its producer thread; thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/fake_records.h"

namespace webhook::testing {

struct ScheduledRecord {
  int64_t number = 0;      // 1, 2, ... in order of creation
  std::string collection;  // works | users | threatActors
  std::string id;
  int64_t timestamp_ms = 0;   // the record's own time (completed/created/updated)
  int64_t visible_at_ms = 0;  // when the fake starts returning it
  nlohmann::ordered_json node;
};

struct RecordScheduleOptions {
  std::vector<std::string> kinds = {"works"};
  std::chrono::milliseconds every{10};
  std::chrono::milliseconds lag{0};           // visibility lag (Elasticsearch refresh)
  int64_t limit = 0;                          // stop after this many records; 0: no limit
  std::string ground_truth_file;              // JSON lines appended as records are made; "" = none
  std::string threat_actor_search = "APT29";  // threat actors are named after it
};

class RecordSchedule {
 public:
  RecordSchedule(FakeRecords& records, RecordScheduleOptions options);
  ~RecordSchedule();  // stops
  RecordSchedule(const RecordSchedule&) = delete;
  RecordSchedule& operator=(const RecordSchedule&) = delete;

  void start();  // the producer thread; records come `every` apart from now on
  void stop();   // joins the thread; what was made stays
  // Makes one record at once (also usable without start()).
  ScheduledRecord make_one();

  std::vector<ScheduledRecord> made() const;
  int64_t count() const { return count_.load(); }

  // The node the schedule makes for record `number` of `collection` at `timestamp_ms`.
  static nlohmann::ordered_json node_for(const std::string& collection, int64_t number,
                                         int64_t timestamp_ms, const std::string& search);

 private:
  void run();

  FakeRecords& records_;
  RecordScheduleOptions options_;
  std::thread thread_;
  std::atomic<bool> running_{false};
  std::atomic<int64_t> count_{0};
  mutable std::mutex mutex_;
  std::vector<ScheduledRecord> made_;
  std::ofstream ground_truth_;
};

}  // namespace webhook::testing
