#!/bin/sh
# The image's entrypoint. Its first argument picks the program:
#   webhook-poller | webhook-dispatcher | webhookctl [ARGS...]   (or poller | dispatcher)
#   health   the HEALTHCHECK: `webhookctl health` for the process running as PID 1
# Anything else runs as given (e.g. `sh` to look around). `exec` keeps the program as PID 1,
# so `docker stop`'s SIGTERM reaches it directly.
set -eu

if [ "$#" -eq 0 ]; then
  set -- webhook-poller
fi

case "$1" in
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
    # PID 1 is the program itself, or docker-init (`init: true`) followed by it.
    for word in $(tr '\0' ' ' </proc/1/cmdline); do
      case "${word##*/}" in
        webhook-poller | poller) exec webhookctl health --process poller "$@" ;;
        webhook-dispatcher | dispatcher) exec webhookctl health --process dispatcher "$@" ;;
      esac
    done
    echo "health: this container runs neither webhook-poller nor webhook-dispatcher"
    exit 0
    ;;
  *)
    exec "$@"
    ;;
esac
