// The poller's modes that poll without writing: --dry-run prints every request a poll
// would enqueue, --check-config checks the platform and shows what each feed's query
// returns and the first request it renders. Output goes to `out`; single-threaded.
#pragma once

#include <iosfwd>
#include <memory>
#include <vector>

#include "poller/feed_poller.h"
#include "poller/graphql_client.h"

namespace webhook::poller {

// One JSON line per request ({"feed","state","method","url","headers","body",...}), then a
// summary line per feed on `err`. Returns 0 when every poll succeeded, else 1.
int dry_run(const std::vector<std::unique_ptr<FeedPoller>>& feeds, std::ostream& out,
            std::ostream& err);

// Returns 0 when the platform answers and every query succeeds, else 1.
int check_config(GraphqlClient& client, const std::vector<std::unique_ptr<FeedPoller>>& feeds,
                 std::ostream& out);

}  // namespace webhook::poller
