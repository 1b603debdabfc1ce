// Runs every feed's poll loop on a thread of its own, with its own GraphQL client and store
// connection, so that a slow query or a platform that stalls one feed never delays another.
// Owns its threads; run() returns when the shutdown signal is set and every thread ended.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/shutdown_signal.h"
#include "common/store/job_store.h"
#include "common/store/open_store.h"
#include "poller/compiled_feed.h"
#include "poller/feed_lease_keeper.h"
#include "poller/graphql_client.h"
#include "poller/poll_loop.h"
#include "poller/stream_client.h"
#include "poller/stream_feed.h"

namespace webhook::poller {

// Returns false when a feed's loop stopped on an error it could not recover from (the
// database failed to open, for instance); the others are then stopped too. Every loop gets
// every one of `listeners`, which must therefore be thread-safe.
// Stream feeds (FeedSource::kStream) run a StreamFeed with their own StreamClient, built
// from `stream` and `stream_feed`, whose registered_start is looked up per feed in
// `registered_starts`. With `leases` (borrowed, already started), each feed is polled or
// streamed only while this process holds its lease; null: every feed, unfenced.
// Once every loop has ended, their heartbeat rows are marked stopped (JobStore::mark_stopped).
bool run_feed_threads(const std::vector<CompiledFeed>& feeds, const GraphqlOptions& graphql,
                      const StreamOptions& stream, const StreamFeedOptions& stream_feed,
                      const std::map<std::string, std::string>& registered_starts,
                      const store::StoreOptions& database, const Clock& clock,
                      ShutdownSignal& signal, const std::vector<PollListener*>& listeners = {},
                      FeedLeaseKeeper* leases = nullptr);

}  // namespace webhook::poller
