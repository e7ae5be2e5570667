#!/usr/bin/env bash
# All checks and tests: format, lints (warnings are errors), docs (warnings
# are errors), the minimum Rust version, import circles, every test.
set -euo pipefail
cd "$(dirname "$0")/.."
MSRV=1.89

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
