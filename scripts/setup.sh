#!/usr/bin/env bash
# Installs what the test suites need and a fresh machine lacks. Idempotent
# and fast when everything is present; any failed install fails the run.
#   scripts/setup.sh          what ./scripts/test.sh needs (the contract suite's Python packages)
#   scripts/setup.sh fuzz     also the nightly toolchain and cargo-fuzz (scripts/fuzz.sh)
# .ci/run and scripts/test.sh call it; other suites may add their own blocks.
set -euo pipefail
cd "$(dirname "$0")/.."

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
