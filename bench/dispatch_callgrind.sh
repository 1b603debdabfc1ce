#!/usr/bin/env bash
# Instructions a delivery on each dispatcher thread, counted by valgrind's callgrind (the
# same count on every run, however loaded the machine): the difference between draining
# MANY and FEW pending jobs with `--once`, divided by MANY - FEW, so start-up and shut-down
# cancel out. Against a local nginx answering 204, CONNECTIONS keep-alive connections.
# Beside the store thread: where its instructions go (the store's record_and_claim, the attempt
# log lines, the rest), and the same turns (record BATCH outcomes and claim BATCH jobs in one
# transaction at FULL, BATCH as many outcomes a commit as the dispatcher made) run by
# `store_bench --turns`: the store's own SQL, the least SQL that does it on a minimal schema (a
# bare sqlite3 loop) and that least SQL on the real schema: our SQL vs the minimal SQL.
# Prints figures and asserts nothing.
# Usage: bench/dispatch_callgrind.sh BUILD_DIR [BEFORE_BUILD_DIR]   (each a build with
#   -DWEBHOOK_BENCH=ON, e.g. `make bench`'s build-bench); with two, both are counted.
# Knobs (environment): FEW (2000), MANY (6000), CONNECTIONS (16), SYNC (FULL), LOG_LEVEL (info),
# BATCH (the turns' size; default: the dispatcher's outcomes a commit in the MANY run).
set -euo pipefail
few=${FEW:-2000}
many=${MANY:-6000}
connections=${CONNECTIONS:-16}
sync=${SYNC:-FULL}
log_level=${LOG_LEVEL:-info}
work=$(mktemp -d /tmp/dispatch-callgrind-XXXXXX)
chmod 755 "$work"
source "$(dirname "$0")/bench_servers.bash"
cleanup() {
  stop_nginx
  sleep 0.2
  rm -rf "$work"
}
trap cleanup EXIT
start_nginx

# Prints "<label> <instructions>" per thread of one callgrind run; the network thread is the
# first (main) one, the store thread the one that ran StoreWorker::execute.
threads() {
  for file in "$1"-*; do
    local total label
    total=$(awk '/^(summary|totals):/ {print $2; exit}' "$file")
    if [[ $file == *-01 ]]; then label=network  # (it calls StoreWorker's submit and take_reply)
    elif grep -q 'StoreWorker::execute' "$file"; then label=store
    else label=other-${file##*-}; fi
    echo "$label $total"
  done
}

# Inclusive instructions of the store thread's parts: "<part> <instructions>".
parts() {
  callgrind_annotate --inclusive=yes --threshold=100 "$1" 2>/dev/null | awk '
    # A function shows once per source file its code came from (inlined headers); the
    # largest inclusive count is the function itself, the others are inside it.
    function keep(part) { gsub(",", "", $1); if ($1 + 0 > most[part]) most[part] = $1 + 0 }
    /[^:]:webhook::store::SqliteLeaseQueue::record_and_claim\(/ { keep("sql") }
    /[^:]:webhook::dispatcher::log_attempt\(/ { keep("log") }
    /[^:]:webhook::LogBatch::~LogBatch\(\)/ { keep("log-write") }
    END { print "store:sql", most["sql"]; print "store:log", most["log"] + most["log-write"] }'
}

count() {
  local build=$1 n=$2
  local db="$work/jobs-$n.db"
  rm -f "$db"*
  "$build/bench/enqueue_jobs" "$db" "http://127.0.0.1:$port/hook/" "$n"
  env OPENCTI_JSON_LOGGING=true CONNECTOR_LOG_LEVEL="$log_level" WEBHOOK_CONCURRENCY="$connections" \
    WEBHOOK_HOST_CONCURRENCY="$connections" WEBHOOK_DATABASE_SYNCHRONOUS="$sync" \
    WEBHOOK_DATABASE_PATH="$db" valgrind --tool=callgrind --separate-threads=yes \
    --callgrind-out-file="$work/cg-$n" "$build/dispatcher/webhook-dispatcher" --once \
    2> "$work/log-$n" > /dev/null
  threads "$work/cg-$n"
  for file in "$work/cg-$n"-*; do
    [[ $file != *-01 ]] && grep -q 'StoreWorker::execute' "$file" && parts "$file"
  done
  rm -f "$work/cg-$n"-*
}

# Instructions of `store_bench --turns KIND` on n jobs in turns of `batch`, the turns alone.
turns() {
  local build=$1 kind=$2 n=$3 batch=$4 counted='*run_minimal_turns*'
  [[ $kind == store ]] && counted='webhook::store::SqliteLeaseQueue::record_and_claim*'
  rm -f "$work/turns.db"*
  valgrind --tool=callgrind --toggle-collect="$counted" --callgrind-out-file="$work/turns.cg" \
    "$build/bench/store_bench" --turns "$kind" "$work/turns.db" "$n" "$batch" > /dev/null 2>&1
  echo "turns:$kind $(awk '/^(summary|totals):/ {print $2; exit}' "$work/turns.cg")"
}

# Outcomes a commit in the MANY run (its "dispatcher stopped" line), rounded.
batch_of() {
  python3 -c '
import json, sys
for line in open(sys.argv[1]):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e.get("message") == "dispatcher stopped":
        a = e["attributes"]
        print(max(1, round(a["outcomes"] / max(1, a["commits"]))))
        break
else:
    print(16)' "$1"
}

for build in "$@"; do
  build=$(realpath "$build")
  count "$build" "$few" > "$work/few"
  count "$build" "$many" > "$work/many"
  batch=${BATCH:-$(batch_of "$work/log-$many")}
  for kind in store minimal-schema minimal; do
    turns "$build" "$kind" "$few" "$batch" >> "$work/few"
    turns "$build" "$kind" "$many" "$batch" >> "$work/many"
  done
  echo "$build: instructions a delivery ((MANY - FEW) / $((many - few)), synchronous=$sync, $connections connections)"
  join <(sort "$work/few") <(sort "$work/many") |
    awk -v d=$((many - few)) -v batch="$batch" '
      { v[$1] = ($3 - $2) / d }
      END {
        printf "  %-44s %8.0f\n", "network thread", v["network"]
        printf "  %-44s %8.0f\n", "store thread", v["store"]
        printf "  %-44s %8.0f\n", "  of it the store (record_and_claim)", v["store:sql"]
        printf "  %-44s %8.0f\n", "  of it the attempt log lines", v["store:log"]
        printf "  %-44s %8.0f\n", "  the rest", v["store"] - v["store:sql"] - v["store:log"]
        for (k in v) if (k ~ /^other-/) printf "  %-44s %8.0f\n", k, v[k]
        printf "  turns of %d outcomes + a claim of %d, one transaction at FULL (store_bench --turns):\n", batch, batch
        printf "  %-44s %8.0f\n", "  our SQL (JobStore::record_and_claim)", v["turns:store"]
        printf "  %-44s %8.0f\n", "  the minimal SQL on our schema", v["turns:minimal-schema"]
        printf "  %-44s %8.0f\n", "  the minimal SQL on a minimal schema", v["turns:minimal"]
        if (v["turns:minimal"] > 0)
          printf "  our SQL vs the minimal SQL: %.2fx (the schema %.2fx, our statements %.2fx on it)\n",
            v["turns:store"] / v["turns:minimal"], v["turns:minimal-schema"] / v["turns:minimal"],
            v["turns:store"] / v["turns:minimal-schema"]
      }'
done
