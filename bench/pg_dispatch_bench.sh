#!/usr/bin/env bash
# webhook-dispatcher against a local nginx (204, keep-alive) on PostgreSQL, beside SQLite, in
# the same run:
#   1. deliveries/s draining JOBS pending jobs with `--once`: SQLite (synchronous=FULL), then
#      PostgreSQL with 1, 2 and 4 dispatcher processes sharing one queue (DISPATCHERS), each
#      printed, and side by side with wrk's rate against the same nginx at the same
#      connection count per process (on two cores the curve is CPU-bound: it is its shape
#      that matters, not its height);
#   2. pickup latency at low load on PostgreSQL (LISTEN/NOTIFY): commit -> request at nginx.
# Starts a throwaway PostgreSQL 15 cluster (initdb as the `postgres` user when run as root,
# 127.0.0.1, a free port, fsync=on, synchronous_commit=on) and nginx; both are stopped and
# removed on exit, also on failure. Prints figures, asserts nothing.
# Usage: bench/pg_dispatch_bench.sh BUILD_DIR. Knobs: JOBS (50000), CONNECTIONS (128, per
# dispatcher), DISPATCHERS ("1 2 4"), LATENCY_JOBS (200), LATENCY_RATE (20 a second).
set -euo pipefail
build=$(realpath "${1:-build-bench}")
jobs=${JOBS:-50000}
connections=${CONNECTIONS:-128}
fleet_sizes=${DISPATCHERS:-1 2 4}
latency_jobs=${LATENCY_JOBS:-200}
latency_rate=${LATENCY_RATE:-20}
dispatcher="$build/dispatcher/webhook-dispatcher"
enqueue="$build/bench/enqueue_jobs"
pg_bin=/usr/lib/postgresql/15/bin
for program in "$dispatcher" "$enqueue" "$pg_bin/initdb"; do
  [[ -x $program ]] || { echo "pg_dispatch_bench: $program is missing" >&2; exit 2; }
done

work=$(mktemp -d /tmp/pg-dispatch-bench-XXXXXX)
chmod 755 "$work"
source "$(dirname "$0")/bench_servers.bash"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  stop_nginx
  stop_pg
  rm -rf "$work"
}
trap cleanup EXIT

# PostgreSQL
start_pg -c fsync=on -c synchronous_commit=on
pg_url() { echo "postgresql://webhook@127.0.0.1:$pg_port/$1"; }
psql_q() { psql -qtA "$(pg_url "$1")" -c "$2"; }

fresh_db() {  # $1: the number of the new database
  psql_q postgres "CREATE DATABASE bench_$1" >/dev/null; pg_url "bench_$1"
}

start_nginx
run_env=(OPENCTI_JSON_LOGGING=true CONNECTOR_LOG_LEVEL=warning
         WEBHOOK_CONCURRENCY="$connections" WEBHOOK_HOST_CONCURRENCY="$connections")

echo "nginx on $base (1 worker), PostgreSQL 15 on 127.0.0.1:$pg_port (fsync=on," \
  "synchronous_commit=on), WEBHOOK_CONCURRENCY=$connections, $jobs jobs a run," \
  "$(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"

# 1. Throughput: SQLite, then PostgreSQL with each fleet size, in this run.
report() {  # name delivered start end
  printf '  %-26s %6d of %d delivered in %6.2f s = %6d deliveries/s\n' "$1" "$2" "$jobs" \
    "$(python3 -c "print($4 - $3)")" "$(python3 -c "print(round($2 / ($4 - $3)))")"
}
db="$work/throughput.db"
"$enqueue" "$db" "$base/hook/" "$jobs"
start=$(now)
env "${run_env[@]}" WEBHOOK_DATABASE_SYNCHRONOUS=FULL WEBHOOK_DATABASE_PATH="$db" \
  "$dispatcher" --once 2> "$work/sqlite.log"
end=$(now)
sqlite_rate=$(python3 -c "print(round($(sqlite3 "$db" "SELECT count(*) FROM jobs WHERE state = 'delivered'") / ($end - $start)))")
report "SQLite (FULL)" "$(sqlite3 "$db" "SELECT count(*) FROM jobs WHERE state = 'delivered'")" "$start" "$end"
fleet_rates=()
for dispatchers in $fleet_sizes; do
  url=$(fresh_db "$dispatchers")
  "$enqueue" "$url" "$base/hook/" "$jobs"
  start=$(now)
  pids=()
  for n in $(seq "$dispatchers"); do
    env "${run_env[@]}" WEBHOOK_DATABASE_URL="$url" "$dispatcher" --once 2> "$work/pg-$dispatchers-$n.log" &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid"; done
  pids=()
  end=$(now)
  delivered=$(psql_q "bench_$dispatchers" "SELECT count(*) FROM jobs WHERE state = 'delivered'")
  report "PostgreSQL, $dispatchers dispatcher(s)" "$delivered" "$start" "$end"
  rate=$(python3 -c "print(round($delivered / ($end - $start)))")
  fleet_rates+=("$dispatchers:$rate")
  printf '    ratio to SQLite of this run: %s\n' "$(python3 -c "print(round($rate / $sqlite_rate, 2))")"
done
reference=$(wrk_rate "$connections")
printf 'deliveries/s on one PostgreSQL against one nginx, side by side (%s cores, load %s):\n' \
  "$(nproc)" "$(cut -d' ' -f1 /proc/loadavg)"
line="  "
for entry in "${fleet_rates[@]}"; do
  line+=$(printf '%s dispatcher(s): %6d   ' "${entry%%:*}" "${entry#*:}")
done
printf '%swrk -c%d: %6d requests/s\n' "$line" "$connections" "$reference"

# 2. Pickup latency at low load on PostgreSQL: each URL carries its commit time.
url=$(fresh_db latency)
"$enqueue" "$url" "$base/hook/" 0
env "${run_env[@]}" WEBHOOK_DATABASE_URL="$url" "$dispatcher" 2> "$work/latency-dispatcher.log" &
pids=($!)
sleep 0.5  # let it start and go idle (LISTEN) before the first commit
"$enqueue" "$url" "$base/latency/" "$latency_jobs" "$latency_rate"
for _ in $(seq 100); do
  [[ $(wc -l < "$work/latency.log" 2>/dev/null || echo 0) -ge $latency_jobs ]] && break
  sleep 0.1
done
kill -TERM "${pids[0]}"; wait "${pids[0]}" || true; pids=()
python3 - "$work/latency.log" <<'PY'
import sys
lat = []
for line in open(sys.argv[1]):
    msec, uri = line.split()
    lat.append(float(msec) * 1000 - int(uri.split('/')[2]))
lat.sort()
pick = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
print(f"pickup latency (PostgreSQL, LISTEN/NOTIFY): p50 {pick(0.5):.1f} ms, p99 {pick(0.99):.1f} ms,"
      f" max {lat[-1]:.1f} ms over {len(lat)} jobs (target p99 <= 50 ms)")
PY
