// Benchmark reference: the least a program can do with libcurl to make COUNT GET requests,
// CONNECTIONS at a time, on one thread and one multi handle (curl's 10-at-a-time example,
// with easy handles reused), nothing recorded. bench/dispatch_bench.sh runs it beside the
// dispatcher against the same nginx, so the dispatcher's rate reads as a share of what its
// own library can do on this machine, in the same run.
//   bare_curl_loop URL_PREFIX COUNT CONNECTIONS [OPTIONS]
// requests URL_PREFIX<n>, n = 0..COUNT-1. OPTIONS "dispatcher" also sets what the dispatcher
// sets on each request (its options, its four headers, a header callback), to tell what
// those cost inside libcurl from what the dispatcher itself costs.
// Prints one line: "requests ok seconds requests/s cpu_us_per_request".
#include <curl/curl.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

namespace {

size_t discard(char* /*data*/, size_t size, size_t count, void* /*unused*/) { return size * count; }

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

struct Slot {
  CURL* easy = nullptr;
  std::string url;  // curl copies URLs, but keeping it avoids one allocation per request
  curl_slist* headers = nullptr;
};

// What dispatcher/transfer.cpp sets, with fixed values where it has a job's.
void set_dispatcher_options(Slot& slot, long n) {
  CURL* easy = slot.easy;
  if (n == 0) {  // once per handle, as the dispatcher does
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(easy, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(easy, CURLOPT_USERAGENT, "opencti-webhook/bench");
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &discard);
    return;
  }
  curl_slist_free_all(slot.headers);
  slot.headers = nullptr;
  const std::string id = "0190f5c2-8a4b-7cde-8f00-" + std::to_string(100000000000 + n);
  for (const std::string& line :
       {std::string("Expect:"), "Idempotency-Key: " + id, "webhook-id: " + id}) {
    slot.headers = curl_slist_append(slot.headers, line.c_str());
  }
  curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, slot.headers);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4 && !(argc == 5 && std::string(argv[4]) == "dispatcher")) {
    std::cerr << "usage: bare_curl_loop URL_PREFIX COUNT CONNECTIONS [dispatcher]\n";
    return 2;
  }
  const std::string prefix = argv[1];
  const long count = std::stol(argv[2]);
  const int connections = std::stoi(argv[3]);
  const bool dispatcher_options = argc == 5;
  if (count < 1 || connections < 1) {
    std::cerr << "bare_curl_loop: COUNT and CONNECTIONS must be positive\n";
    return 2;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  CURLM* multi = curl_multi_init();
  curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, static_cast<long>(connections));

  std::vector<Slot> slots(static_cast<std::size_t>(connections));
  std::vector<Slot*> idle;
  for (Slot& slot : slots) {
    slot.easy = curl_easy_init();
    curl_easy_setopt(slot.easy, CURLOPT_WRITEFUNCTION, &discard);
    curl_easy_setopt(slot.easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(slot.easy, CURLOPT_PRIVATE, static_cast<void*>(&slot));
    if (dispatcher_options) set_dispatcher_options(slot, 0);
    idle.push_back(&slot);
  }

  const double cpu_start = cpu_seconds();
  const auto start = std::chrono::steady_clock::now();
  long next = 0, done = 0, ok = 0;
  while (done < count) {
    while (!idle.empty() && next < count) {
      Slot* slot = idle.back();
      idle.pop_back();
      slot->url = prefix + std::to_string(next++);
      curl_easy_setopt(slot->easy, CURLOPT_URL, slot->url.c_str());
      if (dispatcher_options) set_dispatcher_options(*slot, next);
      curl_multi_add_handle(multi, slot->easy);
    }
    int running = 0;
    curl_multi_perform(multi, &running);
    int queued = 0;
    while (CURLMsg* message = curl_multi_info_read(multi, &queued)) {
      if (message->msg != CURLMSG_DONE) continue;
      long status = 0;
      curl_easy_getinfo(message->easy_handle, CURLINFO_RESPONSE_CODE, &status);
      ok += message->data.result == CURLE_OK && status >= 200 && status < 300;
      void* slot = nullptr;
      curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, &slot);
      curl_multi_remove_handle(multi, message->easy_handle);
      idle.push_back(static_cast<Slot*>(slot));
      ++done;
    }
    // Nothing new to start: wait for the network.
    if (done < count && (idle.empty() || next == count))
      curl_multi_poll(multi, nullptr, 0, 1000, nullptr);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double cpu = cpu_seconds() - cpu_start;

  for (Slot& slot : slots) {
    curl_easy_cleanup(slot.easy);
    curl_slist_free_all(slot.headers);
  }
  curl_multi_cleanup(multi);
  curl_global_cleanup();
  std::printf("%ld %ld %.3f %.0f %.2f\n", count, ok, seconds, static_cast<double>(count) / seconds,
              cpu * 1e6 / static_cast<double>(count));
  return ok == count ? 0 : 1;
}
