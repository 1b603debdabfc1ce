#!/bin/bash
# The image's entrypoint. Its first argument picks the program:
#   all      webhook-poller and webhook-dispatcher together (the default): the image run
#            alone, as OpenCTI's connector manager runs it, one container with no command
#   webhook-poller | webhook-dispatcher | webhookctl [ARGS...]   (or poller | dispatcher)
#   health   the HEALTHCHECK: `webhookctl health` for what runs as PID 1
# Anything else runs as given (e.g. `sh` to look around). `exec` keeps a single program as
# PID 1, so `docker stop`'s SIGTERM reaches it directly.
set -eu

# Both processes on the container's database. SIGTERM/SIGINT go to both; when either ends
# (a bad setting, a crash), the other is stopped too, so the container ends and its restart
# policy applies; it exits with the first non-zero code of the two, 0 after a clean stop.
run_both() {
  local pids=() exited="" stopping="" status=0 code pid
  webhook-dispatcher "$@" &
  pids+=("$!")
  webhook-poller "$@" &
  pids+=("$!")
  # One SIGTERM each, never two: a second one makes the dispatcher give up its requests in
  # flight at once instead of letting them finish.
  stop_both() {
    [[ -n "$stopping" ]] && return
    stopping=1
    kill -TERM "${pids[@]}" 2>/dev/null || true
  }
  trap stop_both TERM INT
  # A trapped signal interrupts `wait -n` before any child ended (no pid then): wait again.
  # (`-p` unsets the variable first, hence the `:-` under `set -u`.)
  while [[ -z "${exited:-}" ]]; do
    status=0
    wait -n -p exited "${pids[@]}" || status=$?
  done
  stop_both
  for pid in "${pids[@]}"; do
    [[ "$pid" == "$exited" ]] && continue
    while :; do
      code=0
      wait "$pid" || code=$?
      kill -0 "$pid" 2>/dev/null || break
    done
    if ((status == 0)); then status=$code; fi
  done
  exit "$status"
}

if [ "$#" -eq 0 ]; then
  set -- all
fi

case "$1" in
  all)
    shift
    run_both "$@"
    ;;
  webhook-poller | webhook-dispatcher | webhookctl)
    exec "$@"
    ;;
  poller | dispatcher)
    program="webhook-$1"
    shift
    exec "$program" "$@"
    ;;
  health)
    shift
    # PID 1 is the program itself, this script running both, or docker-init (`init: true`)
    # followed by either.
    for word in $(tr '\0' ' ' </proc/1/cmdline); do
      case "${word##*/}" in
        webhook-poller | poller) exec webhookctl health --process poller "$@" ;;
        webhook-dispatcher | dispatcher) exec webhookctl health --process dispatcher "$@" ;;
        all)
          webhookctl health --process poller "$@" || exit $?
          exec webhookctl health --process dispatcher "$@"
          ;;
      esac
    done
    echo "health: this container runs neither webhook-poller nor webhook-dispatcher"
    exit 0
    ;;
  *)
    exec "$@"
    ;;
esac
