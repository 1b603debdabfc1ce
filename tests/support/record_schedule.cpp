#include "tests/support/record_schedule.h"

#include <stdexcept>

namespace webhook::testing {
namespace {

using Json = nlohmann::ordered_json;

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

RecordSchedule::RecordSchedule(FakeRecords& records, RecordScheduleOptions options)
    : records_(records), options_(std::move(options)) {
  if (options_.kinds.empty()) throw std::invalid_argument("record schedule: no record kinds");
  if (!options_.ground_truth_file.empty()) {
    ground_truth_.open(options_.ground_truth_file, std::ios::app);
    if (!ground_truth_) throw std::runtime_error("cannot write " + options_.ground_truth_file);
  }
}

RecordSchedule::~RecordSchedule() { stop(); }

void RecordSchedule::start() {
  if (running_.exchange(true)) return;
  thread_ = std::thread([this] { run(); });
}

void RecordSchedule::stop() {
  running_ = false;
  if (thread_.joinable()) thread_.join();
}

Json RecordSchedule::node_for(const std::string& collection, int64_t number, int64_t timestamp_ms,
                              const std::string& search) {
  const std::string n = std::to_string(number);
  if (collection == "users") {
    return FakeRecords::user("user-" + n, "user" + n + "@example.org", timestamp_ms);
  }
  if (collection == "threatActors") {
    // Confidence cycles through 0..100 so that consecutive updates differ.
    return FakeRecords::threat_actor("threat-actor-" + n, search + " cell " + n,
                                     static_cast<int>(number % 101), timestamp_ms);
  }
  // Received ten minutes before completion: old enough for the README's "processing for over
  // 3 minutes" examples.
  return FakeRecords::work("work-" + n, "Connector " + n, {"work " + n + " done"},
                           timestamp_ms - 600'000, timestamp_ms);
}

ScheduledRecord RecordSchedule::make_one() {
  std::lock_guard lock(mutex_);
  ScheduledRecord record;
  record.number = static_cast<int64_t>(made_.size()) + 1;
  record.collection =
      options_.kinds[static_cast<std::size_t>(record.number - 1) % options_.kinds.size()];
  record.timestamp_ms = now_ms();
  record.visible_at_ms = record.timestamp_ms + options_.lag.count();
  record.node =
      node_for(record.collection, record.number, record.timestamp_ms, options_.threat_actor_search);
  record.id = record.node["id"].get<std::string>();
  records_.add(record.collection, record.node, record.visible_at_ms);
  made_.push_back(record);
  ++count_;
  if (ground_truth_.is_open()) {
    ground_truth_ << Json{{"number", record.number},
                          {"collection", record.collection},
                          {"id", record.id},
                          {"timestamp_ms", record.timestamp_ms},
                          {"visible_at_ms", record.visible_at_ms},
                          {"node", record.node}}
                         .dump()
                  << '\n'
                  << std::flush;
  }
  return record;
}

void RecordSchedule::run() {
  auto next = std::chrono::steady_clock::now();
  while (running_) {
    if (options_.limit > 0 && count_.load() >= options_.limit) break;
    make_one();
    next += options_.every;
    // A producer that falls behind on a loaded machine catches up instead of drifting.
    std::this_thread::sleep_until(next);
  }
}

std::vector<ScheduledRecord> RecordSchedule::made() const {
  std::lock_guard lock(mutex_);
  return made_;
}

}  // namespace webhook::testing
