# A throw-away PostgreSQL cluster on 127.0.0.1 (sourced by with-postgres.sh
# and test.sh). `pg_start [-c name=value ...]` exports PUNCH_PG_URL (trust
# auth, loopback only; the options go to the server); `pg_stop` stops the
# cluster and deletes it. As root the cluster runs as the postgres user
# (initdb refuses root). Needs Debian's postgresql (scripts/setup.sh).

pg_start() {
  PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)"
  [ -x "$PG_BIN/initdb" ] || { echo "postgres: no PostgreSQL; run scripts/setup.sh" >&2; return 1; }
  PG_DATA="$(mktemp -d /tmp/punch-pg.XXXXXX)"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$PG_DATA"
  # A free port: let the kernel pick one, then hand it to PostgreSQL.
  local port
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  pg_run "$PG_BIN/initdb" -D "$PG_DATA/db" -U postgres -A trust -E UTF8 --no-sync >"$PG_DATA/initdb.log" 2>&1 \
    || { cat "$PG_DATA/initdb.log" >&2; return 1; }
  pg_run "$PG_BIN/pg_ctl" -D "$PG_DATA/db" -l "$PG_DATA/server.log" -w -t 60 start \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $PG_DATA -c max_connections=300 -c shared_buffers=256MB $*" \
    >/dev/null || { cat "$PG_DATA/server.log" >&2; return 1; }
  export PUNCH_PG_URL="postgres://postgres@127.0.0.1:$port/postgres"
  echo "postgres: PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$port" >&2
}

pg_stop() {
  [ -n "${PG_DATA:-}" ] || return 0
  pg_run "$PG_BIN/pg_ctl" -D "$PG_DATA/db" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$PG_DATA"
  PG_DATA=""
  unset PUNCH_PG_URL
}

pg_run() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
