#!/usr/bin/env bash
# All checks and tests: format, lints (warnings are errors), docs (warnings
# are errors), the minimum Rust version, import circles, every test.
set -euo pipefail
cd "$(dirname "$0")/.."
MSRV=1.89

# What the suites need beyond Rust (idempotent, fast when present).
./scripts/setup.sh

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked

# The declared rust-version must really build (its own target dir: no rebuild churn).
if rustup toolchain list 2>/dev/null | grep -q "^$MSRV"; then
  CARGO_TARGET_DIR=target/msrv cargo "+$MSRV" check --workspace --locked
else
  echo "MSRV check skipped: 'rustup toolchain install $MSRV --profile minimal' enables it" >&2
fi

# No import circles between the modules of any crate.
if [ -f ../shared/tools/modcycles.py ]; then
  python3 ../shared/tools/modcycles.py .
fi

cargo test --workspace --locked

# --- Suites of issue 9 (crash, fuzz twin, properties, contract) -------------
# Inside `cargo test` above: tests/tests/crash.rs (100 device + 20 server
# SIGKILLs), tests/tests/decoder_mutation.rs (the stable twin of fuzz/:
# 5,000 mutated real inputs per decoder), tests/tests/properties_*.rs.
# Long runs by hand: scripts/crash.sh (1,000 rounds), scripts/fuzz.sh (cargo-fuzz).
# The contract suite: schemathesis against the live server, bounded.
./scripts/contract.sh 40
