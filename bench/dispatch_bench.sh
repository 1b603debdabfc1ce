#!/usr/bin/env bash
# webhook-dispatcher against a local nginx that answers 204 with keep-alive:
#   1. deliveries/s draining JOBS pending jobs with `--once`, every outcome committed, beside
#      two references in the same run against the same nginx with the same connection count:
#      bare_curl_loop (one thread, one curl multi handle, the same URLs, nothing recorded:
#      the ceiling of the library the dispatcher drives) and wrk; with the CPU time per
#      delivery of each dispatcher thread beside the bare loop's CPU time per request;
#   2. pickup latency at low load: commit -> request at nginx ($msec), p50/p99;
#   3. peak RSS (/usr/bin/time) of a dispatcher draining BIG_JOBS pending jobs.
# Prints figures and asserts nothing. Starts its own nginx on a free loopback port and stops
# it on exit. Usage: bench/dispatch_bench.sh BUILD_DIR   (scripts/bench.sh passes it)
# Knobs (environment): JOBS (100000), BIG_JOBS (1000000), CONNECTIONS (16),
# SYNC ("FULL NORMAL": the throughput run is repeated for each WEBHOOK_DATABASE_SYNCHRONOUS),
# LOG_LEVEL (info), LATENCY_JOBS (200), LATENCY_RATE (20 a second), LATENCY_SYNC (FULL).
set -euo pipefail
build=$(realpath "${1:-build-bench}")
jobs=${JOBS:-100000}
big_jobs=${BIG_JOBS:-1000000}
connections=${CONNECTIONS:-16}
sync_modes=${SYNC:-FULL NORMAL}
log_level=${LOG_LEVEL:-info}
latency_jobs=${LATENCY_JOBS:-200}
latency_rate=${LATENCY_RATE:-20}
latency_sync=${LATENCY_SYNC:-FULL}
dispatcher="$build/dispatcher/webhook-dispatcher"
enqueue="$build/bench/enqueue_jobs"
bare="$build/bench/bare_curl_loop"
thread_cpu="$(dirname "$0")/thread_cpu.py"
for program in "$dispatcher" "$enqueue" "$bare"; do
  [[ -x $program ]] || { echo "dispatch_bench: $program is not built" >&2; exit 2; }
done

work=$(mktemp -d /tmp/dispatch-bench-XXXXXX)
chmod 755 "$work"
source "$(dirname "$0")/bench_servers.bash"
cleanup() {
  stop_nginx
  [[ -n ${running_pid:-} ]] && kill "$running_pid" 2>/dev/null
  sleep 0.2
  rm -rf "$work"
}
trap cleanup EXIT

start_nginx  # sets $port and $base

run_env=(OPENCTI_JSON_LOGGING=true
         CONNECTOR_LOG_LEVEL="$log_level" WEBHOOK_CONCURRENCY="$connections"
         WEBHOOK_HOST_CONCURRENCY="$connections")
now() { date +%s.%N; }
# CPU seconds (user + system) nginx's worker has used so far: the receiver's share of the
# two cores, measured around the bare loop and around the dispatcher.
nginx_cpu() {
  python3 -c '
import os, sys
master = open(sys.argv[1]).read().split()[0]
tick, total = os.sysconf("SC_CLK_TCK"), 0
for pid in os.listdir("/proc"):
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        continue
    if fields[1] == master:  # the ppid: a worker of this nginx
        total += int(fields[11]) + int(fields[12])
print(total / tick)' "$work/nginx.pid"
}
count_state() { sqlite3 "$1" "SELECT count(*) FROM jobs WHERE state = '$2'"; }

echo "nginx on $base (1 worker), WEBHOOK_CONCURRENCY=$connections, log level $log_level," \
  "$(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"

# 1. Throughput, beside the bare curl loop and wrk, for each synchronous mode. The three run
# one after the other (each alone with nginx), the bare loop right before the dispatcher.
for sync in $sync_modes; do
  db="$work/throughput-$sync.db"
  "$enqueue" "$db" "$base/hook/" "$jobs"
  nginx_before_bare=$(nginx_cpu)
  read -r _ bare_ok bare_s bare_rate bare_cpu_us < <("$bare" "$base/hook/" "$jobs" "$connections")
  nginx_after_bare=$(nginx_cpu)
  env "${run_env[@]}" WEBHOOK_DATABASE_SYNCHRONOUS="$sync" WEBHOOK_DATABASE_PATH="$db" \
    python3 "$thread_cpu" "$work/cpu.json" "$dispatcher" --once 2> "$work/throughput.log"
  nginx_after_dispatcher=$(nginx_cpu)
  delivered=$(count_state "$db" delivered)
  wrk_rate=$(wrk -t2 -c"$connections" -d5s "$base/hook/1" | awk '/Requests\/sec/ {print int($2)}')
  printf 'synchronous=%s\n' "$sync"
  python3 - "$work/cpu.json" "$work/throughput.log" "$delivered" "$jobs" "$bare_rate" \
    "$bare_cpu_us" "$bare_ok" "$wrk_rate" "$connections" \
    "$nginx_before_bare" "$nginx_after_bare" "$nginx_after_dispatcher" <<'PY'
import json, sys
(cpu_file, log, delivered, jobs, bare_rate, bare_cpu_us, bare_ok, wrk_rate, connections,
 nginx_0, nginx_1, nginx_2) = sys.argv[1:]
nginx_bare_us = (float(nginx_1) - float(nginx_0)) * 1e6 / max(1, int(bare_ok))
nginx_dispatcher_us = (float(nginx_2) - float(nginx_1)) * 1e6 / max(1, int(delivered))
delivered, jobs, bare_ok = int(delivered), int(jobs), int(bare_ok)
bare_rate, bare_cpu_us, wrk_rate = float(bare_rate), float(bare_cpu_us), float(wrk_rate)
cpu = json.load(open(cpu_file))
rate = delivered / cpu["seconds"]
print(f"  deliveries:      {delivered} of {jobs} delivered in {cpu['seconds']:.2f} s = {rate:.0f} deliveries/s")
print(f"  bare curl loop:  {bare_ok} of {jobs} requests, {bare_rate:.0f} requests/s")
print(f"  ratio:           {rate / bare_rate:.2f} of the bare loop (target >= 0.7)")
print(f"  wrk -c{connections}:        {wrk_rate:.0f} requests/s ({rate / wrk_rate:.2f} of it)")
names = {"main": "loop thread", "store-worker": "store thread"}
per = max(1, delivered)
parts = ", ".join(f"{names.get(n, n)} {s * 1e6 / per:.1f}" for n, s in sorted(cpu["threads"].items()))
print(f"  CPU per delivery: {cpu['total_cpu_s'] * 1e6 / per:.1f} us in all ({parts}) beside the bare loop's"
      f" {bare_cpu_us:.1f} us a request")
print(f"  nginx CPU:       {nginx_dispatcher_us:.1f} us a delivery, {nginx_bare_us:.1f} us a bare-loop request")
# The two cores' budget: the bare loop is one thread beside nginx, so its rate is bounded by
# the busier of the two; the dispatcher's two threads and nginx share both cores, and its
# network thread is one thread. What the dispatcher could reach if the cores were its alone:
cores = 2
bare_bound = 1e6 / max(bare_cpu_us, nginx_bare_us)
dispatcher_us = cpu["total_cpu_s"] * 1e6 / per + nginx_dispatcher_us
busiest = max(cpu["threads"].values()) * 1e6 / per
dispatcher_bound = min(cores * 1e6 / dispatcher_us, 1e6 / busiest)
print(f"  CPU bound:       at most {dispatcher_bound:.0f} deliveries/s on {cores} cores (its threads + nginx"
      f" {dispatcher_us:.1f} us, busiest thread {busiest:.1f} us) vs the bare loop's {bare_bound:.0f}/s:"
      f" {dispatcher_bound / bare_bound:.2f} at best")
for line in open(log):
    try:
        entry = json.loads(line)
    except ValueError:
        continue
    if entry.get("message") == "dispatcher stopped":
        a = entry["attributes"]
        print(f"  transactions:    {a['commits']} commits of outcomes ({a['outcomes'] / max(1, a['commits']):.0f} a commit),"
              f" {a['claims']} claims ({a['claimed'] / max(1, a['claims']):.0f} jobs a claim)")
PY
done

# 2. Pickup latency at low load: each job's URL carries the time it was committed.
db="$work/latency.db"
"$enqueue" "$db" "$base/hook/" 0
env "${run_env[@]}" WEBHOOK_DATABASE_PATH="$db" WEBHOOK_DATABASE_SYNCHRONOUS="$latency_sync" \
  "$dispatcher" 2> "$work/latency-dispatcher.log" &
running_pid=$!
sleep 0.5  # let it start and go idle before the first commit
"$enqueue" "$db" "$base/latency/" "$latency_jobs" "$latency_rate"
for _ in $(seq 100); do
  [[ $(wc -l < "$work/latency.log" 2>/dev/null || echo 0) -ge $latency_jobs ]] && break
  sleep 0.1
done
kill -TERM "$running_pid"; wait "$running_pid" || true; running_pid=
python3 - "$work/latency.log" "synchronous=$latency_sync" <<'PY'
import sys
lat = []
for line in open(sys.argv[1]):
    msec, uri = line.split()
    committed = int(uri.split('/')[2])
    lat.append(float(msec) * 1000 - committed)
lat.sort()
pick = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
print(f"pickup latency ({sys.argv[2]}): p50 {pick(0.5):.1f} ms, p99 {pick(0.99):.1f} ms, max {lat[-1]:.1f} ms"
      f" over {len(lat)} jobs (target p99 <= 50 ms)")
PY

# 3. Peak RSS with BIG_JOBS pending.
db="$work/big.db"
"$enqueue" "$db" "$base/hook/" "$big_jobs"
start=$(now)
env "${run_env[@]}" WEBHOOK_DATABASE_PATH="$db" WEBHOOK_DATABASE_SYNCHRONOUS=NORMAL \
  /usr/bin/time -f '%M' -o "$work/rss" \
  "$dispatcher" --once 2> "$work/big.log"
end=$(now)
delivered=$(count_state "$db" delivered)
printf 'peak RSS:          %.1f MB draining %d pending jobs (target <= 64 MB); %d delivered at %d/s\n' \
  "$(python3 -c "print($(cat "$work/rss") / 1024)")" "$big_jobs" "$delivered" \
  "$(python3 -c "print(round($delivered / ($end - $start)))")"
