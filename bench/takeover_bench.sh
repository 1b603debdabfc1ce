#!/usr/bin/env bash
# Takeover time of a standby poller (README "Standby pollers"): two real webhook-poller
# processes on one store, the active one SIGKILLed, and the time until the standby holds the
# feed's lease, ROUNDS times (10), on SQLite and on a throwaway PostgreSQL 15 cluster. Prints
# the median, min and max beside the configured WEBHOOK_POLLER_LEASE (LEASE seconds, 3), the
# bound the design promises (a lease row runs two thirds of it, a standby tries every third),
# in the same run. The pollers need no OpenCTI to hold leases: OPENCTI_URL names a closed
# port. The killed poller is started again as the next round's standby, once its heartbeat
# shows it is up. The lease row is read every few ms with sqlite3 / psql, which adds their
# start-up time (a few ms) to each figure. Everything is removed on exit, also on failure.
# Prints figures, asserts nothing. Usage: bench/takeover_bench.sh BUILD_DIR.
set -euo pipefail
build=$(realpath "${1:-build}")
rounds=${ROUNDS:-10}
lease=${LEASE:-3}
poller="$build/poller/webhook-poller"
pg_bin=/usr/lib/postgresql/15/bin
for program in "$poller" "$pg_bin/initdb" /usr/bin/sqlite3 /usr/bin/psql; do
  [[ -x $program ]] || { echo "takeover_bench: $program is missing" >&2; exit 2; }
done

work=$(mktemp -d /tmp/takeover-bench-XXXXXX)
chmod 755 "$work"
source "$(dirname "$0")/bench_servers.bash"
pids=()
main_shell=$BASHPID
cleanup() {
  [[ $BASHPID == "$main_shell" ]] || return 0  # not in a subshell that inherited the trap
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  stop_pg
  rm -rf "$work"
}
trap cleanup EXIT

export OPENCTI_URL=http://127.0.0.1:9 OPENCTI_TOKEN=bench-token OPENCTI_JSON_LOGGING=false
export WEBHOOK_GRAPHQL_QUERY='query {{ works {{ id }} }}'
export WEBHOOK_GRAPHQL_RETURNED_DATA_LOCATION="['data']['works']"
export WEBHOOK_URL=http://127.0.0.1:9/ WEBHOOK_GRAPHQL_POLLING_INTERVAL=60
export WEBHOOK_POLLER_LEASE=$lease

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
start_poller() { "$poller" >>"$work/pollers.log" 2>&1 & pids+=($!); started=$!; }

# $1: sqlite or postgresql. query SQL prints one value (or nothing).
query() {
  if [[ $1 == sqlite ]]; then sqlite3 -cmd '.timeout 2000' "$work/webhook.db" "$2" 2>/dev/null || true
  else psql -qtA "$pg_url" -c "$2" 2>/dev/null || true; fi
}
holder_pid() { local h; h=$(query "$1" "SELECT holder FROM feed_leases WHERE feed = 'default'"); echo "${h##*:}"; }
beating() { [[ -n $(query "$1" "SELECT worker FROM heartbeats WHERE worker LIKE '%:$2'") ]]; }

measure() {  # $1: the store; prints one line of figures
  local store=$1 a b active standby t0 deadline times=()
  start_poller; a=$started
  start_poller; b=$started
  for ((round = 0; round < rounds; round++)); do
    deadline=$(( $(now_ms) + 60000 ))
    while :; do
      active=$(holder_pid "$store")
      if [[ $active == "$a" ]]; then standby=$b; elif [[ $active == "$b" ]]; then standby=$a; else standby=; fi
      [[ -n $standby ]] && beating "$store" "$standby" && break
      (( $(now_ms) < deadline )) || { echo "$store: round $round: no active poller with a live standby" >&2; return; }
      sleep 0.01
    done
    kill -KILL "$active"; t0=$(now_ms)
    wait "$active" 2>/dev/null || true
    until [[ $(holder_pid "$store") == "$standby" ]]; do
      (( $(now_ms) < t0 + 60000 )) || { echo "$store: round $round: no takeover" >&2; return; }
      sleep 0.005
    done
    times+=($(( $(now_ms) - t0 )))
    start_poller
    if [[ $active == "$a" ]]; then a=$started; else b=$started; fi
  done
  kill -TERM "$a" "$b"; wait "$a" "$b" 2>/dev/null || true
  printf '%s\n' "${times[@]}" | sort -n | awk -v store="$store" -v lease="$lease" '
    { t[NR] = $1 }
    END { m = NR % 2 ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2
          printf "%-10s  rounds %2d  median %6d ms  min %6d ms  max %6d ms  | WEBHOOK_POLLER_LEASE %d ms\n",
                 store, NR, m, t[1], t[NR], lease * 1000 }'
}

echo "takeover after SIGKILL of the active poller, $rounds rounds, WEBHOOK_POLLER_LEASE=$lease"
export WEBHOOK_DATABASE_PATH="$work/webhook.db"
measure sqlite
unset WEBHOOK_DATABASE_PATH

start_pg
pg_url="postgresql://webhook@127.0.0.1:$pg_port/postgres"
export WEBHOOK_DATABASE_URL=$pg_url
measure postgresql
