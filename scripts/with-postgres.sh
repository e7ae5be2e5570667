#!/usr/bin/env bash
# Runs CMD with a throw-away PostgreSQL cluster on 127.0.0.1 and stops and
# deletes it afterwards, whatever CMD does:
#   scripts/with-postgres.sh CMD [ARGS...]
# CMD sees PUNCH_PG_URL=postgres://postgres@127.0.0.1:PORT/postgres (trust
# auth, loopback only). As root the cluster runs as the postgres user
# (initdb refuses root). Needs Debian's postgresql (scripts/setup.sh).
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 CMD [ARGS...]" >&2; exit 2; }

bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)"
[ -x "$bin/initdb" ] || { echo "with-postgres: no PostgreSQL; run scripts/setup.sh" >&2; exit 1; }

data="$(mktemp -d /tmp/punch-pg.XXXXXX)"
run_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" -eq 0 ] && chown postgres: "$data"

stop() {
  run_pg "$bin/pg_ctl" -D "$data/db" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$data"
}
trap stop EXIT

# A free port: let the kernel pick one, then hand it to PostgreSQL.
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
run_pg "$bin/initdb" -D "$data/db" -U postgres -A trust -E UTF8 --no-sync >"$data/initdb.log" 2>&1 \
  || { cat "$data/initdb.log" >&2; exit 1; }
run_pg "$bin/pg_ctl" -D "$data/db" -l "$data/server.log" -w -t 60 start \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $data -c max_connections=300 -c shared_buffers=256MB" \
  >/dev/null || { cat "$data/server.log" >&2; exit 1; }

export PUNCH_PG_URL="postgres://postgres@127.0.0.1:$port/postgres"
echo "with-postgres: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port" >&2
set +e
"$@"
status=$?
set -e
exit "$status"
