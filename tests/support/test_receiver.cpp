#include "tests/support/test_receiver.h"

#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <stdexcept>
#include <thread>

namespace webhook::testing {
namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool iequals(const std::string& a, const std::string& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

std::string ReceivedRequest::header(const std::string& name) const {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) return value;
  }
  return {};
}

struct TestReceiver::Server {
  std::unique_ptr<httplib::Server> http;
  std::thread thread;
};

TestReceiver::TestReceiver(std::optional<TlsFiles> tls, int threads, int port, std::string host)
    : server_(std::make_unique<Server>()), host_(std::move(host)), tls_(tls.has_value()) {
  if (tls) {
    auto secure = std::make_unique<httplib::SSLServer>(tls->certificate_pem.c_str(),
                                                       tls->private_key_pem.c_str());
    if (!secure->is_valid()) throw std::runtime_error("test receiver: bad TLS certificate");
    server_->http = std::move(secure);
  } else {
    server_->http = std::make_unique<httplib::Server>();
  }
  httplib::Server& http = *server_->http;
  const auto pool_size = static_cast<std::size_t>(threads);
  http.new_task_queue = [pool_size] { return new httplib::ThreadPool(pool_size); };

  auto handler = [this](const httplib::Request& req, httplib::Response& res) {
    InFlight counted(*this);  // from arrival until the answer is handed to httplib
    ReceivedRequest request;
    request.method = req.method;
    request.path = req.path;
    request.target = req.target;
    for (const auto& [name, value] : req.headers) request.headers.emplace(name, value);
    request.body = req.body;
    request.received_at_ms = now_ms();
    request.remote_addr = req.remote_addr;
    Reply reply = next_reply(req.path, request.try_number);
    request.status = reply.drop_connection ? 0 : reply.status;
    record(std::move(request));  // on arrival, so a test sees a request while it stalls

    if (reply.stall.count() > 0) stall(reply.stall);
    res.status = reply.status;
    for (const auto& [name, value] : reply.headers) res.set_header(name, value);
    if (reply.drop_connection) {
      // The headers go out, then the provider fails and httplib closes the connection.
      res.set_content_provider(1024, "text/plain",
                               [](size_t, size_t, httplib::DataSink&) { return false; });
    } else {
      res.set_content(reply.body, "text/plain");
    }
  };
  for (auto route :
       {&httplib::Server::Get, &httplib::Server::Post, &httplib::Server::Put,
        &httplib::Server::Patch, &httplib::Server::Delete, &httplib::Server::Options}) {
    (http.*route)(R"(.*)", handler);
  }

  if (port != 0) {
    port_ = http.bind_to_port(host_, port) ? port : -1;
  } else {
    port_ = http.bind_to_any_port(host_);
  }
  if (port_ <= 0) throw std::runtime_error("test receiver: cannot bind " + host_);
  server_->thread = std::thread([&http] { http.listen_after_bind(); });
  // httplib's stop() is a no-op until the accept loop runs: wait for it, so that a receiver
  // destroyed right away still stops.
  while (!http.is_running()) std::this_thread::yield();
}

TestReceiver::~TestReceiver() { stop(); }

void TestReceiver::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !server_->thread.joinable()) return;
    stopping_ = true;
  }
  changed_.notify_all();
  server_->http->stop();
  if (server_->thread.joinable()) server_->thread.join();
}

std::string TestReceiver::url(const std::string& path) const {
  return std::string(tls_ ? "https" : "http") + "://" + host_ + ":" + std::to_string(port_) + path;
}

void TestReceiver::set_script(const std::string& path, Script script) {
  std::lock_guard lock(mutex_);
  scripts_[path] = std::move(script);
}

void TestReceiver::set_default_script(Script script) {
  std::lock_guard lock(mutex_);
  default_script_ = std::move(script);
}

void TestReceiver::release_stalls() {
  {
    std::lock_guard lock(mutex_);
    released_ = true;
  }
  changed_.notify_all();
}

void TestReceiver::reset_stalls() {
  std::lock_guard lock(mutex_);
  released_ = false;
}

Reply TestReceiver::next_reply(const std::string& path, int& try_number) {
  std::lock_guard lock(mutex_);
  try_number = tries_[path]++;
  auto it = scripts_.find(path);
  const Script& script = it == scripts_.end() ? default_script_ : it->second;
  const auto index = static_cast<std::size_t>(try_number);
  return index < script.first.size() ? script.first[index] : script.then;
}

TestReceiver::InFlight::InFlight(TestReceiver& receiver) : receiver_(receiver) {
  std::lock_guard lock(receiver_.mutex_);
  receiver_.max_in_flight_ = std::max(receiver_.max_in_flight_, ++receiver_.in_flight_);
}

TestReceiver::InFlight::~InFlight() {
  std::lock_guard lock(receiver_.mutex_);
  --receiver_.in_flight_;
}

int TestReceiver::max_in_flight() const {
  std::lock_guard lock(mutex_);
  return max_in_flight_;
}

void TestReceiver::reset_max_in_flight() {
  std::lock_guard lock(mutex_);
  max_in_flight_ = in_flight_;
}

void TestReceiver::record(ReceivedRequest request) {
  {
    std::lock_guard lock(mutex_);
    requests_.push_back(std::move(request));
  }
  changed_.notify_all();
}

void TestReceiver::stall(std::chrono::milliseconds how_long) {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, how_long, [this] { return released_ || stopping_; });
}

std::vector<ReceivedRequest> TestReceiver::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

std::vector<ReceivedRequest> TestReceiver::requests_to(const std::string& path) const {
  std::lock_guard lock(mutex_);
  std::vector<ReceivedRequest> out;
  for (const auto& request : requests_) {
    if (request.path == path) out.push_back(request);
  }
  return out;
}

std::vector<ReceivedRequest> TestReceiver::requests_since(std::size_t from) const {
  std::lock_guard lock(mutex_);
  if (from >= requests_.size()) return {};
  return {requests_.begin() + static_cast<std::ptrdiff_t>(from), requests_.end()};
}

std::size_t TestReceiver::count() const {
  std::lock_guard lock(mutex_);
  return requests_.size();
}

bool TestReceiver::wait_until(
    const std::function<bool(const std::vector<ReceivedRequest>&)>& predicate,
    std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return predicate(requests_); });
}

bool TestReceiver::wait_for_count(std::size_t n, std::chrono::milliseconds timeout) const {
  return wait_until([n](const auto& requests) { return requests.size() >= n; }, timeout);
}

TlsFiles make_self_signed_certificate(const std::string& folder) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  if (key == nullptr || cert == nullptr) throw std::runtime_error("cannot make a test key");
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* san =
      X509V3_EXT_conf_nid(nullptr, &context, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost");
  X509_add_ext(cert, san, -1);
  X509_EXTENSION_free(san);
  X509_sign(cert, key, EVP_sha256());

  TlsFiles files{folder + "/receiver-cert.pem", folder + "/receiver-key.pem"};
  FILE* out = std::fopen(files.certificate_pem.c_str(), "w");
  PEM_write_X509(out, cert);
  std::fclose(out);
  out = std::fopen(files.private_key_pem.c_str(), "w");
  PEM_write_PrivateKey(out, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(out);
  X509_free(cert);
  EVP_PKEY_free(key);
  return files;
}

}  // namespace webhook::testing
