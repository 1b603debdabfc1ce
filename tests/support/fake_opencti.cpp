#include "tests/support/fake_opencti.h"

#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace webhook::testing {
namespace {

using Json = nlohmann::ordered_json;

// The first root field a request asks for, without acting on it; "" when unparsable.
std::string root_field(const std::string& body) {
  Json request = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!request.is_object() || !request.contains("query") || !request["query"].is_string()) {
    return {};
  }
  Json variables = request.value("variables", Json::object());
  try {
    auto operation = parse_graphql(request["query"].get<std::string>(), variables);
    return operation.selections.empty() ? std::string() : operation.selections.front().name;
  } catch (const GraphqlParseError&) {
    return {};
  }
}

// Failures that replace the answer whole: the platform never acted on the request.
bool answers_nothing(FakeFailure::Kind kind) {
  using Kind = FakeFailure::Kind;
  return kind != Kind::kTruncatedJson && kind != Kind::kTruncatedTransfer;
}

std::string error_body(const std::string& code, const std::string& message, bool with_data) {
  Json body = {
      {"errors", Json::array({Json{{"message", message}, {"extensions", {{"code", code}}}}})}};
  if (with_data) body["data"] = nullptr;
  return body.dump();
}

}  // namespace

FakeFailure FakeFailure::http_status(int status) {
  FakeFailure f;
  f.kind = Kind::kHttpStatus;
  f.status = status;
  return f;
}

FakeFailure FakeFailure::bad_request(std::string code, std::string message) {
  FakeFailure f;
  f.kind = Kind::kBadRequestErrors;
  f.status = 400;
  f.code = std::move(code);
  f.message = std::move(message);
  return f;
}

FakeFailure FakeFailure::graphql_errors(std::string code, std::string message) {
  FakeFailure f;
  f.kind = Kind::kGraphqlErrors;
  f.status = 200;
  f.code = std::move(code);
  f.message = std::move(message);
  return f;
}

FakeFailure FakeFailure::of(Kind kind) {
  FakeFailure f;
  f.kind = kind;
  f.status = 200;
  return f;
}

FakeFailure FakeFailure::huge(std::size_t bytes) {
  FakeFailure f = of(Kind::kHugeBody);
  f.bytes = bytes;
  return f;
}

FakeFailure FakeFailure::stalled(std::chrono::milliseconds duration) {
  FakeFailure f = of(Kind::kStall);
  f.stall = duration;
  return f;
}

FakeFailure FakeFailure::raw_body(std::string body) {
  FakeFailure f = of(Kind::kRawBody);
  f.body = std::move(body);
  return f;
}

FakeOpencti::FakeOpencti(FakeOpenctiOptions options, const Clock* clock)
    : options_(std::move(options)),
      records_(options_.records, clock != nullptr ? *clock : system_clock_),
      connectors_(clock != nullptr ? *clock : system_clock_) {
  port_ = options_.port;
  start();
}

FakeOpencti::~FakeOpencti() { stop(); }

std::string FakeOpencti::url() const {
  return (options_.tls_cert_file.empty() ? "http://" : "https://") + options_.host + ":" +
         std::to_string(port_);
}

void FakeOpencti::start() {
  if (server_) return;
  if (options_.tls_cert_file.empty()) {
    server_ = std::make_unique<httplib::Server>();
  } else {
    auto tls = std::make_unique<httplib::SSLServer>(options_.tls_cert_file.c_str(),
                                                    options_.tls_key_file.c_str());
    if (!tls->is_valid()) throw std::runtime_error("fake OpenCTI: bad TLS certificate or key");
    server_ = std::move(tls);
  }
  // Headers and body go out in two writes: without TCP_NODELAY each answer waits for the
  // client's delayed ACK (~40 ms). A short keep-alive lets stop() return quickly while a
  // client still holds a connection.
  server_->set_tcp_nodelay(true);
  server_->set_keep_alive_timeout(1);
  serve();
  if (port_ == 0) {
    port_ = server_->bind_to_any_port(options_.host);
    if (port_ <= 0) throw std::runtime_error("fake OpenCTI: cannot bind " + options_.host);
  } else if (!server_->bind_to_port(options_.host, port_)) {
    throw std::runtime_error("fake OpenCTI: cannot bind " + options_.host + ":" +
                             std::to_string(port_));
  }
  thread_ = std::thread([server = server_.get()] { server->listen_after_bind(); });
  // stop() is a no-op on a server that is not running yet, so wait until it runs.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!server_->is_running()) {
    if (std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error("fake OpenCTI: the server did not start");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

void FakeOpencti::stop() {
  if (!server_) return;
  release_stalls();
  server_->stop();
  if (thread_.joinable()) thread_.join();
  server_.reset();
}

void FakeOpencti::fail_next(const FakeFailure& failure, int times) {
  std::lock_guard lock(mutex_);
  for (int i = 0; i < times; ++i) failures_.push_back(failure);
}

void FakeOpencti::release_stalls() {
  {
    std::lock_guard lock(mutex_);
    ++stall_generation_;
  }
  stall_cv_.notify_all();
}

std::vector<FakeRequest> FakeOpencti::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

std::vector<FakeRequest> FakeOpencti::requests_since(std::size_t from) const {
  std::lock_guard lock(mutex_);
  if (from >= requests_.size()) return {};
  return {requests_.begin() + static_cast<std::ptrdiff_t>(from), requests_.end()};
}

std::size_t FakeOpencti::request_count() const {
  std::lock_guard lock(mutex_);
  return requests_.size();
}

void FakeOpencti::clear_requests() {
  std::lock_guard lock(mutex_);
  requests_.clear();
}

// A raw value is a string marker in the records; answers replace the marker, quotes and
// all, by the text. The \u0001 bytes keep it from meeting any real value.
constexpr const char* kRawMarker =
    "\x01"
    "fake-raw:";

Json FakeOpencti::raw_json(std::string json_text) {
  std::lock_guard lock(mutex_);
  raw_values_.push_back(std::move(json_text));
  return std::string(kRawMarker) + std::to_string(raw_values_.size() - 1) + "\x01";
}

std::pair<int, std::string> FakeOpencti::answer(const std::string& authorization,
                                                const std::string& body,
                                                FakeRequest* record) const {
  Json request = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (request.is_discarded() || !request.is_object() || !request.contains("query") ||
      !request["query"].is_string()) {
    return {400, error_body("BAD_REQUEST",
                            "POST body missing, invalid Content-Type, or JSON object has no keys.",
                            false)};
  }
  Json variables = request.value("variables", Json::object());
  if (variables.is_null()) variables = Json::object();
  if (record != nullptr) {
    record->query = request["query"].get<std::string>();
    record->variables = variables;
  }
  if (authorization != "Bearer " + options_.token) {
    return {401, error_body("AUTH_REQUIRED", "You must be logged in to do this.", true)};
  }
  GraphqlOperation operation;
  try {
    operation = parse_graphql(request["query"].get<std::string>(), variables);
  } catch (const GraphqlParseError& e) {
    return {400, error_body("GRAPHQL_PARSE_FAILED", e.what(), false)};
  }
  if (record != nullptr && !operation.selections.empty()) {
    record->field = operation.selections.front().name;
  }
  try {
    if (operation.kind == "mutation") {
      return {200, Json{{"data", connectors_.evaluate(operation)}}.dump()};
    }
    std::string text = Json{{"data", records_.evaluate(operation)}}.dump();
    std::lock_guard lock(mutex_);
    for (std::size_t i = 0; i < raw_values_.size(); ++i) {
      const std::string marker = "\"\\u0001fake-raw:" + std::to_string(i) + "\\u0001\"";
      for (auto pos = text.find(marker); pos != std::string::npos;
           pos = text.find(marker, pos + raw_values_[i].size())) {
        text.replace(pos, marker.size(), raw_values_[i]);
      }
    }
    return {200, std::move(text)};
  } catch (const FakeQueryError& e) {
    if (e.validation()) return {400, error_body(e.code(), e.what(), false)};
    return {200, error_body(e.code(), e.what(), true)};
  }
}

void FakeOpencti::serve() {
  server_->Post("/graphql", [this](const httplib::Request& req, httplib::Response& res) {
    FakeRequest record;
    record.path = req.path;
    record.body = req.body;
    for (const auto& [name, value] : req.headers) {
      std::string lower = name;
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      record.headers[lower] = value;
    }
    using Kind = FakeFailure::Kind;
    std::optional<FakeFailure> failure;
    const std::string field = root_field(req.body);
    {
      std::lock_guard lock(mutex_);
      auto it = std::find_if(failures_.begin(), failures_.end(), [&](const FakeFailure& f) {
        return f.field.empty() || f.field == field;
      });
      if (it != failures_.end()) {
        failure = *it;
        failures_.erase(it);
      }
    }
    int status = 0;
    std::string body;
    // A stalled request is answered (and its mutation done) only when the stall ends.
    bool answer_now =
        !failure || (!answers_nothing(failure->kind) && failure->kind != Kind::kStall);
    if (answer_now) {
      std::tie(status, body) = answer(req.get_header_value("Authorization"), req.body, &record);
    } else {
      Json request = Json::parse(req.body, nullptr, /*allow_exceptions=*/false);
      if (request.is_object() && request.contains("query") && request["query"].is_string()) {
        record.query = request["query"].get<std::string>();
        record.variables = request.value("variables", Json::object());
      }
      record.field = field;
    }
    int64_t generation = 0;
    std::size_t index = 0;
    {
      // Recorded on arrival, so that a test sees a request that is still stalled.
      std::lock_guard lock(mutex_);
      index = requests_.size();
      requests_.push_back(record);
      generation = stall_generation_;
    }
    if (!failure) {
      res.status = status;
      res.set_content(body, "application/json");
      std::lock_guard lock(mutex_);
      if (index < requests_.size()) requests_[index].response = body;
    } else {
      switch (failure->kind) {
        case Kind::kHttpStatus:
          status = failure->status;
          res.status = status;
          if (!failure->body.empty()) {
            res.set_content(failure->body, "text/plain");
            break;
          }
          res.set_content(
              "<html><body><h1>" + std::to_string(status) + " Bad Gateway</h1></body></html>",
              "text/html");
          break;
        case Kind::kBadRequestErrors:
        case Kind::kGraphqlErrors:
          status = failure->status;
          res.status = status;
          res.set_content(
              error_body(failure->code, failure->message, failure->kind == Kind::kGraphqlErrors),
              "application/json");
          break;
        case Kind::kMalformedJson:
          status = 200;
          res.status = 200;
          res.set_content("{\"data\": {\"works\": <html>oops</html>", "application/json");
          break;
        case Kind::kEmptyBody:
          status = 200;
          res.status = 200;
          res.set_content("", "application/json");
          break;
        case Kind::kTruncatedJson:
          res.status = status;
          res.set_content(body.substr(0, body.size() / 2), "application/json");
          break;
        case Kind::kTruncatedTransfer: {
          res.status = status;
          std::string half = body.substr(0, body.size() / 2);
          res.set_content_provider(body.size() + 16, "application/json",
                                   [half](size_t offset, size_t, httplib::DataSink& sink) {
                                     if (offset != 0) return false;  // drops the connection
                                     sink.write(half.data(), half.size());
                                     return true;
                                   });
          status = 0;
          break;
        }
        case Kind::kHugeBody: {
          status = 200;
          res.status = 200;
          std::string prefix = "{\"data\":{\"works\":{\"edges\":[]}},\"padding\":\"";
          std::size_t pad =
              failure->bytes > prefix.size() + 2 ? failure->bytes - prefix.size() - 2 : 0;
          res.set_content(prefix + std::string(pad, 'x') + "\"}", "application/json");
          break;
        }
        case Kind::kRawBody:
          status = 200;
          res.status = 200;
          res.set_content(failure->body, "application/json");
          break;
        case Kind::kStall: {
          std::unique_lock lock(mutex_);
          stall_cv_.wait_for(lock, failure->stall, [&] { return stall_generation_ != generation; });
          lock.unlock();
          std::tie(status, body) = answer(req.get_header_value("Authorization"), req.body);
          res.status = status;
          res.set_content(body, "application/json");
          break;
        }
      }
    }
    std::lock_guard lock(mutex_);
    if (index < requests_.size()) requests_[index].status = status;
  });
}

}  // namespace webhook::testing
