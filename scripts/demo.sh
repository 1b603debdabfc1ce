#!/usr/bin/env bash
# A one-command demo without an OpenCTI: starts the fake OpenCTI (a work completes every
# second), a webhook sink, webhook-poller and webhook-dispatcher with the README's first
# example configuration, and shows what the sink receives. Ctrl-C stops everything.
# Usage: scripts/demo.sh BUILD_DIR   (called by `make demo`)
set -uo pipefail
build=${1:-build}
cd "$(dirname "$0")/.."
for program in poller/webhook-poller dispatcher/webhook-dispatcher ctl/webhookctl \
               tests/fake-opencti tests/webhook-sink; do
  if [[ ! -x "$build/$program" ]]; then
    echo "make demo: $build/$program is not built (run make build)" >&2
    exit 2
  fi
done
build=$(cd "$build" && pwd)
demo=$(mktemp -d /tmp/opencti-webhook-demo.XXXXXX)
token="demo-token-$RANDOM$RANDOM"

pids=()
stop() {
  trap - INT TERM
  echo
  echo "== stopping"
  # The two processes first (they finish what is in flight), then the fake and the sink.
  for pid in "${pids[@]:2}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${pids[@]:2}"; do wait "$pid" 2>/dev/null; done
  for pid in "${pids[@]:0:2}"; do kill -TERM "$pid" 2>/dev/null; done
  wait 2>/dev/null
  echo "== the database stays in $demo/webhook.db; look at it with:"
  echo "   $build/ctl/webhookctl status --database $demo/webhook.db"
  exit 0
}
trap stop INT TERM

FAKE_OPENCTI_TOKEN=$token "$build/tests/fake-opencti" --port-file "$demo/opencti.port" \
  --records works --every-ms 1000 --ground-truth "$demo/ground-truth.jsonl" \
  2> >(trap '' INT; exec sed -u 's/^/[fake-opencti] /' >&2) &
pids+=($!)
"$build/tests/webhook-sink" --port-file "$demo/sink.port" --print --log "$demo/sink.jsonl" \
  > >(trap '' INT; exec sed -u 's/^/[sink] /') 2> >(trap '' INT; exec sed -u 's/^/[sink] /' >&2) &
pids+=($!)
for file in opencti.port sink.port; do
  for _ in $(seq 100); do [[ -s "$demo/$file" ]] && break; sleep 0.1; done
  [[ -s "$demo/$file" ]] || { echo "make demo: the fake OpenCTI or the sink did not start" >&2; stop; }
done
opencti_port=$(cat "$demo/opencti.port")
sink_port=$(cat "$demo/sink.port")

# The README's first example (OpenCTI 5.12+ syntax), pointed at the sink instead of localhost.
export OPENCTI_URL="http://127.0.0.1:$opencti_port"
export OPENCTI_TOKEN=$token
export OPENCTI_JSON_LOGGING=false
export WEBHOOK_GRAPHQL_QUERY='{{works(filters:{{mode:and,filters:[{{key:"completed_time",operator:gt,values:["LAST_POLL_TIME"]}}],filterGroups:[]}}){{edges{{node{{connector{{name}}messages{{message}}}}}}}}}}'
export WEBHOOK_GRAPHQL_RETURNED_DATA_LOCATION="['data']['works']['edges']"
export WEBHOOK_URL="http://127.0.0.1:$sink_port/?connector_name={item['node']['connector']['name']}&messages={item['node']['messages']}"
export WEBHOOK_GRAPHQL_POLLING_INTERVAL=2
export WEBHOOK_UNSUCCESSFUL_RETRY_INTERVAL=5
export WEBHOOK_DATABASE_PATH="$demo/webhook.db"

cat <<MSG
== opencti-webhook demo
   fake OpenCTI  $OPENCTI_URL (a work completes every second)
   sink          http://127.0.0.1:$sink_port (answers 200, logs to $demo/sink.jsonl)
   database      $WEBHOOK_DATABASE_PATH
   While it runs, in another terminal:
     $build/ctl/webhookctl status --database $WEBHOOK_DATABASE_PATH
     $build/ctl/webhookctl jobs --limit 5 --database $WEBHOOK_DATABASE_PATH
     sqlite3 -readonly -box $WEBHOOK_DATABASE_PATH 'SELECT * FROM poll_log ORDER BY id DESC LIMIT 5'
     sqlite3 -readonly -box $WEBHOOK_DATABASE_PATH 'SELECT job_seq, number, started, http_status, error FROM attempt_log ORDER BY started_at DESC LIMIT 5'
   Ctrl-C stops everything.
MSG
for program in poller dispatcher; do
  "$build/$program/webhook-$program" > >(trap '' INT; exec sed -u "s/^/[$program] /") 2>&1 &
  pids+=($!)
done
wait -n "${pids[2]}" "${pids[3]}"
stop
