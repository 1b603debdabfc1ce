#include "poller/graphql_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <mutex>
#include <stdexcept>

#include "common/config.h"
#include "common/json_reader.h"

namespace webhook::poller {
namespace {

using Json = nlohmann::ordered_json;

// curl_global_init once per process, before the first handle; cleaned up at exit.
class CurlGlobal {
 public:
  static void ensure() { static CurlGlobal instance; }
  ~CurlGlobal() { curl_global_cleanup(); }

 private:
  CurlGlobal() {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
      throw std::runtime_error("cannot initialise libcurl");
    }
  }
};

struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

std::string trim(std::string_view s) {
  auto begin = s.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return {};
  return std::string(s.substr(begin, s.find_last_not_of(" \t\r\n") - begin + 1));
}

// Secrets shorter than this are not searched for: they would match ordinary text.
constexpr std::size_t kMinRedacted = 4;

// `text` with every copy of `secret` replaced by ***.
std::string redacted(std::string text, std::string_view secret) {
  if (secret.size() < kMinRedacted) return text;
  for (auto pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos)) {
    text.replace(pos, secret.size(), "***");
  }
  return text;
}

// The first bytes of a body for an error message, on one line, without `secret`. The
// secret is removed before the body is cut, so no cut copy keeps its first bytes, and a
// beginning of it at the end of the excerpt (an echo the server cut itself) goes too.
std::string excerpt(std::string_view body, std::string_view secret) {
  constexpr std::size_t kMax = 200;
  std::string clean = redacted(std::string(body), secret);
  std::string out = clean.substr(0, kMax);
  if (secret.size() >= kMinRedacted) {
    for (std::size_t n = std::min(secret.size() - 1, out.size()); n >= kMinRedacted; --n) {
      if (out.compare(out.size() - n, n, secret.substr(0, n)) == 0) {
        out.replace(out.size() - n, n, "***");
        break;
      }
    }
  }
  for (auto& c : out) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  if (clean.size() > kMax) out += "...";
  return out;
}

// Takes the platform's error name and message from an `errors` member, as pycti does.
void describe_errors(const Json& errors, GraphqlResponse& response) {
  const Json* first = errors.is_array() && !errors.empty() ? &errors.front() : &errors;
  std::string message = "(no message)";
  if (first->is_object()) {
    if (auto m = first->find("message"); m != first->end() && m->is_string()) message = *m;
    if (auto n = first->find("name"); n != first->end() && n->is_string()) response.code = *n;
    if (auto ext = first->find("extensions"); ext != first->end() && ext->is_object()) {
      if (auto c = ext->find("code"); c != ext->end() && c->is_string()) response.code = *c;
    }
  } else if (first->is_string()) {
    message = first->get<std::string>();
  }
  response.error = (response.code.empty() ? "GraphQL error" : response.code) + ": " + message;
  if (errors.is_array() && errors.size() > 1) {
    response.error += " (and " + std::to_string(errors.size() - 1) + " more errors)";
  }
}

bool is_tls_error(CURLcode rc) {
  switch (rc) {
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
      return true;
    default:
      return false;
  }
}

std::string seconds_text(std::chrono::milliseconds ms) {
  std::string s = std::to_string(ms.count() / 1000);
  if (ms.count() % 1000 != 0) {
    std::string frac = std::to_string(1000 + ms.count() % 1000).substr(1);
    frac.erase(frac.find_last_not_of('0') + 1);
    s += "." + frac;
  }
  return s + " s";
}

}  // namespace

struct GraphqlClient::Handle {
  struct Deleter {
    void operator()(CURL* c) const { curl_easy_cleanup(c); }
  };
  std::unique_ptr<CURL, Deleter> curl;
  Slist headers;
  std::string body;
  int64_t max_bytes = 0;
  bool too_large = false;
  const CancelFn* cancel = nullptr;
  bool cancelled = false;
  char error_buffer[CURL_ERROR_SIZE] = {};

  static size_t on_write(char* data, size_t size, size_t count, void* self) {
    auto* h = static_cast<Handle*>(self);
    size_t n = size * count;
    if (static_cast<int64_t>(h->body.size() + n) > h->max_bytes) {
      h->too_large = true;
      return 0;  // makes curl stop with CURLE_WRITE_ERROR
    }
    h->body.append(data, n);
    return n;
  }

  static int on_progress(void* self, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    auto* h = static_cast<Handle*>(self);
    if (h->cancel != nullptr && *h->cancel && (*h->cancel)()) {
      h->cancelled = true;
      return 1;
    }
    return 0;
  }
};

std::vector<std::pair<std::string, std::string>> parse_custom_headers(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t index = 0;
  while (!text.empty()) {
    auto semi = text.find(';');
    std::string entry = trim(text.substr(0, semi));
    text = semi == std::string_view::npos ? std::string_view{} : text.substr(semi + 1);
    ++index;
    if (entry.empty()) continue;
    auto colon = entry.find(':');
    std::string name = colon == std::string::npos ? std::string() : trim(entry.substr(0, colon));
    bool valid_name = !name.empty();
    for (unsigned char c : name) {
      if (!std::isalnum(c) && c != '-' && c != '_') valid_name = false;
    }
    if (colon == std::string::npos || !valid_name) {
      throw std::invalid_argument("OPENCTI_CUSTOM_HEADERS: entry " + std::to_string(index) +
                                  " is not `name:value` (expected `name1:value1;name2:value2`)");
    }
    std::string value = trim(entry.substr(colon + 1));
    if (value.find_first_of("\r\n") != std::string::npos) {
      throw std::invalid_argument("OPENCTI_CUSTOM_HEADERS: entry " + std::to_string(index) +
                                  " holds a line break (CR or LF), which would add header "
                                  "lines to every request to OpenCTI");
    }
    out.emplace_back(name, std::move(value));
  }
  return out;
}

std::string graphql_endpoint_url(std::string_view opencti_url) {
  std::string base = trim(opencti_url);
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + "/graphql";
}

GraphqlOptions GraphqlOptions::from_config(const Config& config) {
  GraphqlOptions options;
  options.url = config.string("OPENCTI_URL");
  options.token = config.string("OPENCTI_TOKEN");
  if (options.token.find_first_of("\r\n") != std::string::npos) {
    // Config refuses it already; this guards every other way options are built.
    throw std::invalid_argument("OPENCTI_TOKEN: holds a line break (CR or LF); not sent");
  }
  options.custom_headers = parse_custom_headers(config.string("OPENCTI_CUSTOM_HEADERS"));
  options.ssl_verify = config.boolean("OPENCTI_SSL_VERIFY");
  options.ca_file = config.string("OPENCTI_CA_FILE");
  options.timeout = config.duration("WEBHOOK_GRAPHQL_TIMEOUT");
  options.max_response_bytes = config.integer("WEBHOOK_GRAPHQL_MAX_RESPONSE_BYTES");
  return options;
}

GraphqlClient::GraphqlClient(GraphqlOptions options)
    : options_(std::move(options)),
      endpoint_(graphql_endpoint_url(options_.url)),
      handle_(std::make_unique<Handle>()) {
  CurlGlobal::ensure();
  display_url_ = endpoint_;
  if (auto scheme = display_url_.find("://"); scheme != std::string::npos) {
    auto at = display_url_.find('@', scheme);
    auto path = display_url_.find('/', scheme + 3);
    if (at != std::string::npos && at < path) display_url_.erase(scheme + 3, at - scheme - 2);
  }

  handle_->curl.reset(curl_easy_init());
  if (!handle_->curl) throw std::runtime_error("cannot create a libcurl handle");
  handle_->max_bytes = options_.max_response_bytes;

  Slist headers;
  auto add = [&](const std::string& line) {
    curl_slist* next = curl_slist_append(headers.get(), line.c_str());
    if (next == nullptr) throw std::runtime_error("out of memory building GraphQL headers");
    headers.release();
    headers.reset(next);
  };
  add("Content-Type: application/json");
  add("Accept: application/json");
  add("Authorization: Bearer " + options_.token);
  for (const auto& [name, value] : options_.custom_headers) add(name + ": " + value);
  handle_->headers = std::move(headers);

  CURL* c = handle_->curl.get();
  curl_easy_setopt(c, CURLOPT_URL, endpoint_.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, handle_->headers.get());
  curl_easy_setopt(c, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
  curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
                   static_cast<curl_off_t>(options_.max_response_bytes));
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, options_.ssl_verify ? 1L : 0L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, options_.ssl_verify ? 2L : 0L);
  if (!options_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, options_.ca_file.c_str());
  // libcurl reads http_proxy, https_proxy, all_proxy and no_proxy itself; Python's clients
  // also honour an upper-case HTTP_PROXY, which curl ignores for http:// on purpose.
  if (endpoint_.rfind("http://", 0) == 0 && std::getenv("http_proxy") == nullptr) {
    if (const char* proxy = std::getenv("HTTP_PROXY"); proxy != nullptr && *proxy != '\0') {
      curl_easy_setopt(c, CURLOPT_PROXY, proxy);
    }
  }
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &Handle::on_write);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, handle_.get());
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, &Handle::on_progress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, handle_.get());
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, handle_->error_buffer);
}

GraphqlClient::~GraphqlClient() = default;

GraphqlResponse GraphqlClient::execute(std::string_view query, const Json& variables,
                                       const CancelFn& cancel) {
  GraphqlResponse response;
  Handle& h = *handle_;
  h.body.clear();
  h.too_large = false;
  h.cancelled = false;
  h.cancel = &cancel;
  h.error_buffer[0] = '\0';
  std::string payload = Json{{"query", query}, {"variables", variables}}.dump();
  CURL* c = h.curl.get();
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(payload.size()));
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload.c_str());
  CURLcode rc = curl_easy_perform(c);
  h.cancel = nullptr;
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  response.http_status = static_cast<int>(status);

  response.body_bytes = static_cast<int64_t>(h.body.size());
  const std::string where = "OpenCTI at " + display_url_;
  std::string detail = h.error_buffer[0] != '\0' ? h.error_buffer : curl_easy_strerror(rc);
  if (rc == CURLE_ABORTED_BY_CALLBACK && h.cancelled) {
    response.cancelled = true;
    response.error = "request to " + where + " abandoned: shutting down";
  } else if (h.too_large || rc == CURLE_FILESIZE_EXCEEDED) {
    response.error = "the answer of " + where + " is larger than " +
                     std::to_string(options_.max_response_bytes) +
                     " bytes (WEBHOOK_GRAPHQL_MAX_RESPONSE_BYTES)";
  } else if (rc == CURLE_OPERATION_TIMEDOUT) {
    response.error = "no complete answer from " + where + " within " +
                     seconds_text(options_.timeout) + " (WEBHOOK_GRAPHQL_TIMEOUT): " + detail;
  } else if (is_tls_error(rc)) {
    response.error = "TLS failure talking to " + where + ": " + detail +
                     ". If the platform uses a private CA, set OPENCTI_CA_FILE to its PEM "
                     "file; to skip verification (not recommended), set "
                     "OPENCTI_SSL_VERIFY=false";
  } else if (rc != CURLE_OK) {
    response.error = "cannot get an answer from " + where + ": " + detail;
  }
  if (!response.error.empty()) {
    h.body.clear();
  } else {
    // Read as the Python connector read it (see json_reader.h): a record that json.loads
    // accepted must not fail every poll of its window.
    JsonReadResult read = read_json(h.body);
    Json document = std::move(read.value);
    bool is_json = read.ok();
    if (is_json && document.is_object()) {
      if (auto errors = document.find("errors"); errors != document.end() && !errors->is_null() &&
                                                 !(errors->is_array() && errors->empty())) {
        describe_errors(*errors, response);
        if (status != 200)
          response.error = "HTTP " + std::to_string(status) + ": " + response.error;
      }
    }
    if (response.error.empty()) {
      if (status != 200) {
        response.error = "HTTP " + std::to_string(status) + " from " + where +
                         (h.body.empty() ? std::string(" with an empty body")
                                         : ": " + excerpt(h.body, options_.token));
      } else if (h.body.empty()) {
        response.error = where + " answered with an empty body";
      } else if (read.failure == JsonReadResult::Failure::kSyntax) {
        response.error = where + " answered with a body that is not JSON (" + read.error +
                         "): " + excerpt(h.body, options_.token);
      } else if (!is_json) {
        // Too deep, or an integer too long: json.loads failed on it too.
        response.error = "the answer of " + where + " cannot be read: " + read.error;
      } else if (!document.is_object()) {
        response.error =
            where + " answered with JSON that is not an object: " + excerpt(h.body, options_.token);
      } else {
        response.document = std::move(document);
      }
    }
  }
  h.body.clear();
  h.body.shrink_to_fit();
  // The token must never leave through an error, whatever a server echoed back (GraphQL
  // messages and curl's errors are not excerpts, so they are cleaned here).
  response.error = redacted(std::move(response.error), options_.token);
  return response;
}

GraphqlResponse GraphqlClient::about(const CancelFn& cancel) {
  return execute("query { about { version } }", Json::object(), cancel);
}

std::string platform_version(const GraphqlResponse& about) {
  const Json& doc = about.document;
  if (doc.is_object() && doc.contains("data") && doc["data"].is_object() &&
      doc["data"].contains("about") && doc["data"]["about"].is_object()) {
    const Json& about_object = doc["data"]["about"];
    if (auto v = about_object.find("version"); v != about_object.end() && v->is_string()) {
      return v->get<std::string>();
    }
  }
  return "unknown";
}

}  // namespace webhook::poller
