#!/usr/bin/env bash
# Installs what the tests need and a fresh machine lacks; quick when all is
# there, loud when an install fails (nothing is skipped silently).
#   PostgreSQL (Debian's package: server binaries and psql/pg_dump/pg_restore)
#   rustfmt + clippy, and the MSRV toolchain
set -euo pipefail
MSRV=1.89

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || ! command -v pg_dump >/dev/null; then
  echo "setup: installing PostgreSQL" >&2
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: PostgreSQL is missing; run as root or: sudo apt-get install -y postgresql" >&2
    exit 1
  fi
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql
fi

have_component() { rustup component list --installed 2>/dev/null | grep -q "^$1"; }
have_component rustfmt || rustup component add rustfmt
have_component clippy || rustup component add clippy
rustup toolchain list | grep -q "^$MSRV" || rustup toolchain install "$MSRV" --profile minimal
