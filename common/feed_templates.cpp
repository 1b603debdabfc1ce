#include "common/feed_templates.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace webhook {
namespace {

bool valid_header_name(std::string_view name) {
  if (name.empty()) return false;
  for (unsigned char c : name) {
    // RFC 9110 token characters.
    if (std::isalnum(c) == 0 &&
        std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Headers that say where one request ends and the next begins, or which host and
// connection it is for. curl writes them from the URL and the body; a rendered one would
// let item data frame the body as a second request (request smuggling).
constexpr std::array<std::string_view, 4> kClientHeaders = {"Content-Length", "Transfer-Encoding",
                                                            "Host", "Connection"};

std::string where(std::string_view setting, const FeedConfig& feed) {
  std::string out(setting);
  if (feed.name != "default") out += " (feed '" + feed.name + "')";
  return out;
}

}  // namespace

std::string describe_compile_error(std::string_view setting, const FeedConfig& feed,
                                   const tmpl::CompileError& error) {
  return where(setting, feed) + ": " + error.what();
}

bool url_template_writes_authority(std::string_view source) {
  // The literal text before the first replacement field ({{ and }} are literal braces).
  std::string literal;
  bool has_field = false;
  for (std::size_t i = 0; i < source.size(); ++i) {
    char c = source[i];
    if ((c == '{' || c == '}') && i + 1 < source.size() && source[i + 1] == c) {
      literal += c;
      ++i;
    } else if (c == '{') {
      has_field = true;
      break;
    } else {
      literal += c;
    }
  }
  if (!has_field) return false;
  auto scheme_end = literal.find("://");
  if (scheme_end == std::string::npos) return true;  // the scheme itself is rendered
  // The authority ends at the first '/', '?' or '#' after "//"; a field before it writes
  // into the user, the host or the port.
  return literal.find_first_of("/?#", scheme_end + 3) == std::string::npos;
}

std::optional<RequestTemplates> compile_request_templates(const FeedConfig& feed,
                                                          std::vector<std::string>& problems) {
  RequestTemplates r;
  std::size_t before = problems.size();
  std::span<const std::string_view> names;
  if (feed.source == FeedSource::kStream) names = kStreamTemplateNames;
  try {
    r.url = tmpl::Template::compile(feed.url, tmpl::Quoting::kSpliced, names);
  } catch (const tmpl::CompileError& e) {
    problems.push_back(describe_compile_error("WEBHOOK_URL", feed, e));
  }
  if (feed.headers.is_object()) {
    for (const auto& [name, value] : feed.headers.items()) {
      std::string setting = where("WEBHOOK_HEADERS[\"" + name + "\"]", feed);
      if (!valid_header_name(name)) {
        problems.push_back(setting + ": '" + name + "' is not a valid HTTP header name");
        continue;
      }
      auto client_header = std::find_if(kClientHeaders.begin(), kClientHeaders.end(),
                                        [&](std::string_view h) { return iequals(h, name); });
      if (client_header != kClientHeaders.end()) {
        problems.push_back(setting + ": the HTTP client sets " + std::string(*client_header) +
                           " itself (from the URL and the body); remove it from the headers");
        continue;
      }
      if (!value.is_string()) {
        problems.push_back(setting + ": expected a template string");
        continue;
      }
      try {
        r.headers.emplace_back(
            name, tmpl::Template::compile(value.get<std::string>(), tmpl::Quoting::kWhole, names));
      } catch (const tmpl::CompileError& e) {
        problems.push_back(setting + ": " + e.what());
      }
    }
  }
  if (!feed.body.empty()) {
    try {
      r.body = tmpl::Template::compile(feed.body, tmpl::Quoting::kWhole, names);
    } catch (const tmpl::CompileError& e) {
      problems.push_back(describe_compile_error("WEBHOOK_BODY", feed, e));
    }
  }
  if (!feed.filter.empty()) {
    // An expression, evaluated as the field of an f-string: its truth is the text "True".
    // (Compiled alone first, so an error's caret points into the filter as written.)
    try {
      tmpl::Template::compile("{" + feed.filter + "}", tmpl::Quoting::kWhole, names);
      r.filter =
          tmpl::Template::compile("{bool(" + feed.filter + ")}", tmpl::Quoting::kWhole, names);
    } catch (const tmpl::CompileError& e) {
      tmpl::CompileError shifted(e.reason(), feed.filter, e.column() > 0 ? e.column() - 1 : 0);
      problems.push_back(describe_compile_error("WEBHOOK_FILTER", feed, shifted));
    }
  }
  if (!feed.order_key.empty()) {
    try {
      r.order_key = tmpl::Template::compile(feed.order_key, tmpl::Quoting::kWhole, names);
    } catch (const tmpl::CompileError& e) {
      problems.push_back(describe_compile_error("WEBHOOK_ORDER_KEY", feed, e));
    }
  }
  if (problems.size() != before) return std::nullopt;
  return r;
}

std::optional<FeedTemplates> compile_feed_templates(const FeedConfig& feed,
                                                    std::vector<std::string>& problems,
                                                    std::vector<std::string>* warnings) {
  std::size_t before = problems.size();
  FeedTemplates t;
  if (feed.source == FeedSource::kStream) {
    // No query: the stream's events are the items.
    auto request = compile_request_templates(feed, problems);
    if (problems.size() != before || !request) return std::nullopt;
    t.request = std::move(*request);
    return t;
  }
  try {
    t.query = tmpl::QueryTemplate::compile(feed.graphql_query);
  } catch (const tmpl::CompileError& e) {
    problems.push_back(describe_compile_error("WEBHOOK_GRAPHQL_QUERY", feed, e));
  }
  try {
    t.data_location = tmpl::DataLocation::compile(feed.data_location);
  } catch (const tmpl::CompileError& e) {
    problems.push_back(describe_compile_error("WEBHOOK_GRAPHQL_RETURNED_DATA_LOCATION", feed, e));
  }
  if (!feed.page_info_location.empty()) {
    try {
      t.page_info_location = tmpl::DataLocation::compile(feed.page_info_location);
    } catch (const tmpl::CompileError& e) {
      problems.push_back(describe_compile_error("WEBHOOK_GRAPHQL_PAGE_INFO_LOCATION", feed, e));
    }
  }
  auto request = compile_request_templates(feed, problems);
  if (problems.size() != before || !request) return std::nullopt;
  t.request = std::move(*request);
  if (warnings != nullptr && url_template_writes_authority(feed.url)) {
    warnings->push_back(
        where("WEBHOOK_URL", feed) +
        ": item data is placed in the URL's scheme or authority (before the host ends), so "
        "a record can choose where its webhook goes" +
        (feed.allowed_hosts.empty()
             ? std::string("; set WEBHOOK_ALLOWED_HOSTS to the receivers it may name")
             : std::string("; only the hosts of WEBHOOK_ALLOWED_HOSTS are sent to")));
  }
  return t;
}

}  // namespace webhook
