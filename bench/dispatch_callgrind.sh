#!/usr/bin/env bash
# Instructions a delivery on each dispatcher thread, counted by valgrind's callgrind (the
# same count on every run, however loaded the machine): the difference between draining
# MANY and FEW pending jobs with `--once`, divided by MANY - FEW, so start-up and shut-down
# cancel out. Against a local nginx answering 204, CONNECTIONS keep-alive connections.
# Prints figures and asserts nothing.
# Usage: bench/dispatch_callgrind.sh BUILD_DIR [BEFORE_BUILD_DIR]   (each a build with
#   -DWEBHOOK_BENCH=ON, e.g. `make bench`'s build-bench); with two, both are counted.
# Knobs (environment): FEW (2000), MANY (6000), CONNECTIONS (16), SYNC (FULL), LOG_LEVEL (info).
set -euo pipefail
few=${FEW:-2000}
many=${MANY:-6000}
connections=${CONNECTIONS:-16}
sync=${SYNC:-FULL}
log_level=${LOG_LEVEL:-info}
work=$(mktemp -d /tmp/dispatch-callgrind-XXXXXX)
chmod 755 "$work"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cleanup() {
  [[ -f $work/nginx.pid ]] && kill "$(cat "$work/nginx.pid")" 2>/dev/null
  sleep 0.2
  rm -rf "$work"
}
trap cleanup EXIT
cat > "$work/nginx.conf" <<CONF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/body;
  keepalive_requests 100000000;
  server { listen 127.0.0.1:$port backlog=4096; location / { return 204; } }
}
CONF
nginx -c "$work/nginx.conf" -p "$work" -e "$work/nginx-error.log"

# Prints "<label> <instructions>" per thread of one callgrind run; the store thread is the
# one that ran StoreWorker, the network thread the first (main) one.
threads() {
  for file in "$1"-*; do
    local total label
    total=$(awk '/^(summary|totals):/ {print $2; exit}' "$file")
    if grep -q 'StoreWorker' "$file"; then label=store
    elif [[ $file == *-01 ]]; then label=network
    else label=other-${file##*-}; fi
    echo "$label $total"
  done
}

count() {
  local build=$1 n=$2 db="$work/jobs-$n.db"
  rm -f "$db"*
  "$build/bench/enqueue_jobs" "$db" "http://127.0.0.1:$port/hook/" "$n"
  env OPENCTI_JSON_LOGGING=true CONNECTOR_LOG_LEVEL="$log_level" WEBHOOK_CONCURRENCY="$connections" \
    WEBHOOK_HOST_CONCURRENCY="$connections" WEBHOOK_DATABASE_SYNCHRONOUS="$sync" \
    WEBHOOK_DATABASE_PATH="$db" valgrind --tool=callgrind --separate-threads=yes \
    --callgrind-out-file="$work/cg-$n" "$build/dispatcher/webhook-dispatcher" --once \
    2> "$work/log-$n" > /dev/null
  threads "$work/cg-$n"
  rm -f "$work/cg-$n"-*
}

for build in "$@"; do
  build=$(realpath "$build")
  count "$build" "$few" > "$work/few"
  count "$build" "$many" > "$work/many"
  echo "$build: instructions a delivery ((MANY - FEW) / $((many - few)), synchronous=$sync, $connections connections)"
  join <(sort "$work/few") <(sort "$work/many") |
    awk -v d=$((many - few)) '{printf "  %-10s %8.0f\n", $1, ($3 - $2) / d}'
done
