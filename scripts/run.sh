#!/usr/bin/env bash
# Runs webhook-poller and webhook-dispatcher in the foreground on one database, each log
# line prefixed with its process name; Ctrl-C (or SIGTERM) stops both cleanly.
# Usage: scripts/run.sh BUILD_DIR   (called by `make run`)
set -uo pipefail
build=${1:-build}
shift || true
cd "$(dirname "$0")/.."

ctl="$build/ctl/webhookctl"
if [[ -z "${OPENCTI_URL:-}" && ! -f config.yml ]]; then
  cat >&2 <<'MSG'
make run: no OpenCTI configured. Set OPENCTI_URL, OPENCTI_TOKEN, WEBHOOK_GRAPHQL_QUERY,
WEBHOOK_GRAPHQL_RETURNED_DATA_LOCATION and WEBHOOK_URL in the environment, or write them
to config.yml (see README.md, "Configuration"). To try it without an OpenCTI: make demo
MSG
  exit 2
fi
for program in poller/webhook-poller dispatcher/webhook-dispatcher; do
  if [[ ! -x "$build/$program" ]]; then
    echo "make run: $build/$program is not built yet" >&2
    exit 2
  fi
done
"$ctl" check-config --quiet >/dev/null || exit 2
mkdir -p "$(dirname "${WEBHOOK_DATABASE_PATH:-data/webhook.db}")"

# The processes' stderr goes through sed, which is not a terminal: keep text logs for a
# person at a terminal unless OPENCTI_JSON_LOGGING says otherwise.
if [[ -t 1 ]]; then export OPENCTI_JSON_LOGGING=${OPENCTI_JSON_LOGGING:-false}; fi

pids=()
stop() {
  trap - INT TERM
  kill -TERM "${pids[@]}" 2>/dev/null
  wait "${pids[@]}" 2>/dev/null
  exit 0
}
trap stop INT TERM
for program in poller dispatcher; do
  "$build/$program/webhook-$program" "$@" > >(trap '' INT; exec sed -u "s/^/[$program] /") 2>&1 &
  pids+=($!)
done
wait -n "${pids[@]}"
stop
