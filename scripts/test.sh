#!/usr/bin/env bash
# All checks and tests: format, lints (warnings are errors), docs (warnings
# are errors), the minimum Rust version, import circles, every Rust test
# (the server's suites twice: SQLite and a throw-away PostgreSQL), the
# contract suite, the generated bindings, the Kotlin tests against the real
# server, the Android demo's compile check, and the core's tests on ARM64.
set -euo pipefail
cd "$(dirname "$0")/.."
MSRV=1.89

# What a fresh machine lacks (idempotent, fast when present).
./scripts/setup.sh

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked

# The declared rust-version must really build (its own target dir: no rebuild churn).
CARGO_TARGET_DIR=target/msrv cargo "+$MSRV" check --workspace --locked

# No import circles between the modules of any crate.
if [ -f ../shared/tools/modcycles.py ]; then
  python3 ../shared/tools/modcycles.py .
fi

# Everything on the SQLite default, then the server's suites (server/tests,
# tests/) on PostgreSQL: the same harness, the back end chosen by PUNCH_TEST_DB.
# The crash, decoder-mutation and property suites of issue 9 run inside
# `cargo test` (tests/tests/crash.rs: 100 device + 20 server SIGKILLs;
# decoder_mutation.rs: the stable twin of fuzz/; properties_*.rs).
# Long runs by hand: scripts/crash.sh (1,000 rounds), scripts/fuzz.sh (cargo-fuzz).
./scripts/with-postgres.sh bash -c '
  set -euo pipefail
  cargo test --workspace --locked
  echo "== the server suites again, on PostgreSQL" >&2
  PUNCH_TEST_DB="$PUNCH_PG_URL" cargo test --locked -p punch-server -p punch-tests
  echo "== the reviewer page in headless Chromium (screenshots: target/web-screens/)" >&2
  cargo test --locked -p punch-server --test web_e2e -- --ignored
  echo "== load test, smoke size (the full one: server/README.md)" >&2
  cargo run --locked -q -p punch-tests --bin scale_bench -- --smoke
'
# The SMTP sender for PIN reset codes (feature smtp) against a local SMTP sink.
cargo test --locked -p punch-server --features smtp --test pin_smtp

# The contract suite: schemathesis against the live server, bounded.
./scripts/contract.sh 40

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
