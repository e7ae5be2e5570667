#!/usr/bin/env bash
# Runs CMD with a throw-away PostgreSQL cluster on 127.0.0.1 and stops and
# deletes it afterwards, whatever CMD does:
#   scripts/with-postgres.sh CMD [ARGS...]
# CMD sees PUNCH_PG_URL=postgres://postgres@127.0.0.1:PORT/postgres (trust
# auth, loopback only). Needs Debian's postgresql (scripts/setup.sh).
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 CMD [ARGS...]" >&2; exit 2; }
source "$(dirname "$0")/lib/postgres.sh"
trap pg_stop EXIT
pg_start
set +e
"$@"
status=$?
set -e
exit "$status"
