// The notification channel the PostgreSQL store's parts share: commits that make jobs due
// send NOTIFY on it, and the dispatcher's connection LISTENs to it (wait_for_work).
// Stateless.
#pragma once

#include <string>

#include "common/store/postgres/pg_connection.h"

namespace webhook::store {

inline constexpr const char* kJobsChannel = "webhook_jobs";

// Inside a write transaction: listeners hear of it when the transaction commits.
inline void notify_new_jobs(PgConnection& connection) {
  connection.exec("signalling new jobs", std::string("NOTIFY ") + kJobsChannel);
}

}  // namespace webhook::store
