# Sourced by the bench scripts that need a receiver or a database (not run on its own, hence
# not *.sh, which scripts/bench.sh runs): a throwaway nginx (1 worker) on a free loopback
# port answering 204 with keep-alive, logging the arrival time of /latency/ requests to
# $work/latency.log, and wrk's rate against it, the reference a dispatcher's figure is printed
# beside; a throwaway PostgreSQL 15 cluster on 127.0.0.1 and a free port (initdb as the
# `postgres` user when run as root). Needs $work, a folder the caller removes on exit; the
# caller's EXIT trap calls stop_nginx and stop_pg.

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Starts nginx; sets $port and $base (http://127.0.0.1:PORT).
start_nginx() {
  port=$(free_port)
  cat > "$work/nginx.conf" <<CONF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/body;
  keepalive_requests 100000000;
  keepalive_timeout 75s;
  log_format arrival '\$msec \$request_uri';
  server {
    listen 127.0.0.1:$port backlog=4096;
    location / { return 204; }
    location /latency/ { access_log $work/latency.log arrival; return 204; }
  }
}
CONF
  nginx -c "$work/nginx.conf" -p "$work" -e "$work/nginx-error.log"
  base="http://127.0.0.1:$port"
}

stop_nginx() {
  if [[ -f $work/nginx.pid ]]; then kill "$(cat "$work/nginx.pid")" 2>/dev/null || true; fi
}

# wrk's requests/s against the same nginx with $1 connections (5 s, 2 threads).
wrk_rate() {
  wrk -t2 -c"$1" -d5s "$base/hook/1" | awk '/Requests\/sec/ {print int($2)}'
}

now() { date +%s.%N; }

pg_bin=${pg_bin:-/usr/lib/postgresql/15/bin}
pg_started=

as_owner() { if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }

# Creates and starts a cluster in $work/pg (trust auth, user webhook); sets $pg_port. Any
# arguments are more server settings ("-c fsync=on" ...).
start_pg() {
  mkdir "$work/pg"
  [[ $(id -u) == 0 ]] && chown postgres: "$work/pg"
  as_owner "$pg_bin/initdb" --pgdata="$work/pg/data" --username=webhook --auth=trust \
    --encoding=UTF8 --no-instructions >"$work/pg/initdb.log" 2>&1
  pg_port=$(free_port)
  as_owner "$pg_bin/pg_ctl" --pgdata="$work/pg/data" start -w -t 60 -l "$work/pg/server.log" \
    -o "-c listen_addresses=127.0.0.1 -c port=$pg_port -c unix_socket_directories=$work/pg $*" \
    >/dev/null
  pg_started=1
}

stop_pg() {
  if [[ -n $pg_started ]]; then
    as_owner "$pg_bin/pg_ctl" --pgdata="$work/pg/data" stop -m immediate -w >/dev/null 2>&1 || true
  fi
}
