#!/usr/bin/env bash
# Installs what the tests need and a fresh machine lacks; quick when all is
# there, loud when an install fails (nothing is skipped silently).
#   scripts/setup.sh          what ./scripts/test.sh needs: PostgreSQL (Debian's package),
#                             rustfmt + clippy, the MSRV toolchain, the contract suite's
#                             Python packages
#   scripts/setup.sh fuzz     also the nightly toolchain and cargo-fuzz (scripts/fuzz.sh)
# .ci/run and scripts/test.sh call it; each suite keeps its own block.
set -euo pipefail
cd "$(dirname "$0")/.."

# --- PostgreSQL and the Rust toolchain pieces
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

# --- contract suite (scripts/contract.sh): schemathesis + cryptography for the signing hook
SCHEMATHESIS_VERSION=4.32.5
CRYPTOGRAPHY_VERSION=48.0.0
if ! python3 - "$SCHEMATHESIS_VERSION" "$CRYPTOGRAPHY_VERSION" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
sys.exit(0 if (version("schemathesis"), version("cryptography")) == tuple(sys.argv[1:3]) else 1)
PY
then
  echo "setup: installing schemathesis $SCHEMATHESIS_VERSION, cryptography $CRYPTOGRAPHY_VERSION"
  python3 -m pip install --quiet --disable-pip-version-check \
    "schemathesis==$SCHEMATHESIS_VERSION" "cryptography==$CRYPTOGRAPHY_VERSION"
fi
command -v schemathesis >/dev/null || { echo "setup: schemathesis is not on PATH" >&2; exit 1; }

# --- fuzzing (scripts/fuzz.sh, scripts/fuzz-attest.sh): nightly + cargo-fuzz, on request only
if [ "${1:-}" = "fuzz" ]; then
  if ! rustup toolchain list | grep -q '^nightly'; then
    rustup toolchain install nightly --profile minimal
  fi
  if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install --locked cargo-fuzz
  fi
fi
