#!/usr/bin/env bash
# All checks and tests: format, lints (warnings are errors), docs (warnings
# are errors), the minimum Rust version, import circles, every Rust test,
# the generated bindings, the Kotlin tests against the real server, the
# Android demo's compile check, and the core's tests on ARM64 under qemu.
set -euo pipefail
cd "$(dirname "$0")/.."
MSRV=1.89

# What a fresh machine lacks (JDK, Maven, ARM64 cross gcc, qemu-user, targets).
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

# The checked-in Kotlin and Swift sources are exactly what the library generates.
./scripts/gen-bindings.sh --check

# Kotlin on a JVM: the generated bindings + coroutine layer, tested against
# the real punch-server on 127.0.0.1 with target/debug/libpunchcore.so.
mvn -B --no-transfer-progress -f bindings/kotlin/pom.xml test

# The Android demo's Kotlin, compiled against the Android framework API jar.
./android-demo/check-compile.sh

# ARM64: the core's test suite (ring's ARM code, SQLite) under qemu-user.
# Skipped there: the one test that re-executes its own binary (with TZ set),
# which qemu-user cannot do without binfmt_misc, absent in containers.
cargo test --locked --target aarch64-unknown-linux-gnu -p punch-model -p punch-sqlite -p punch-core \
  -- --skip clock::tests::offset_follows_the_host_zone
