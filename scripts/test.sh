#!/usr/bin/env bash
# All checks and tests, the command README.md gives and .ci/run calls:
#   scripts/test.sh           everything: format, lints and docs (warnings are
#                             errors), the minimum Rust version, import circles,
#                             every Rust test (the server's suites on SQLite and
#                             again on a throw-away PostgreSQL), the reviewer
#                             page in headless Chromium, the load smoke test,
#                             the contract suite, the generated bindings, the
#                             Kotlin tests against the real server (OkHttp over
#                             TLS included), the Android SDK under Robolectric,
#                             the SDK's keep rules under ProGuard,
#                             the Android native check, the Android demo's
#                             compile check, and the core on ARM64 (qemu)
#   scripts/test.sh --quick   the local loop (a few minutes warm): format,
#                             clippy, and the workspace's tests on SQLite
# Each step's wall time is printed at the end (scripts/lib/steps.sh).
#
# One build serves every step: the test binaries are built once (with the
# smtp feature, so its test needs no second build of the server) and run
# directly afterwards, because a `cargo test -p X` with another package
# selection resolves features anew and rebuilds shared crates. That build is
# made with the declared minimum Rust version, so it is also the MSRV check
# (of every target, tests included); fmt, clippy and the docs run on stable.
# Steps that do not need the host's CPU at the same moment run beside each
# other: the installs (network) beside the lints, the ARM64 and Android
# builds beside the test runs, and the test suites (which mostly wait on
# sockets, disks and child processes) beside each other.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/msrv.sh
FEATURES=(--workspace --locked --features punch-server/smtp)
# swift-check needs Rust 1.90 (tree-sitter): built apart, on stable.
MSRV_CARGO=(scripts/lib/msrv-cargo.sh)
MSRV_FEATURES=(--workspace --exclude swift-check --locked --features punch-server/smtp)

quick=false
case "${1:-}" in
  --quick) quick=true ;;
  "") ;;
  *) echo "usage: $0 [--quick]" >&2; exit 2 ;;
esac

# One build from scratch (CI): incremental caches would only cost time and disk.
$quick || export CARGO_INCREMENTAL=0

source scripts/lib/steps.sh
source scripts/lib/postgres.sh
trap 'pg_stop; steps_summary' EXIT

step "rust components" ./scripts/setup.sh rust
if ! $quick; then
  # The MSRV toolchain and cross targets (the builds below need them), then
  # Debian packages, Python and npm packages, Maven artifacts: network, so
  # beside the lints.
  step_bg "rust toolchains" ./scripts/setup.sh toolchains
  step_bg setup ./scripts/setup.sh system
fi

# Checks link nothing, yet build scripts still compile C: at -O0 for them
# (bundled SQLite takes about 40 s at the -O3 test builds use, 5 s at -O0).
CHECK_ONLY=(--config 'profile.dev.package.libsqlite3-sys.opt-level=0'
  --config 'profile.dev.package.ring.opt-level=0')
$quick && CHECK_ONLY=() # the quick loop's tests share clippy's C builds

step fmt cargo fmt --all -- --check
step clippy cargo clippy "${CHECK_ONLY[@]}" "${FEATURES[@]}" --all-targets -- -D warnings

if $quick; then
  step "tests (SQLite)" cargo test "${FEATURES[@]}"
  exit 0
fi

step doc env RUSTDOCFLAGS="-D warnings" cargo doc "${CHECK_ONLY[@]}" "${FEATURES[@]}" --no-deps

# No import circles between the modules of any crate.
if [ -f ../shared/tools/modcycles.py ]; then
  step "import circles" python3 ../shared/tools/modcycles.py .
fi

# Build every test binary once; later steps run them by path.
step_wait "rust toolchains"
step "build tests (Rust $MSRV)" "${MSRV_CARGO[@]}" test "${MSRV_FEATURES[@]}" --no-run \
  --message-format=json-render-diagnostics >target/steps/test-build.json
test_bin() { # PACKAGE TARGET -> the test executable cargo built
  python3 scripts/lib/test_bins.py target/steps/test-build.json "$1" "$2"
}
# The plain binaries and the FFI library (with `bench`, as the test build has
# it): the same feature set, so only what the tests did not need is built
# (uniffi-bindgen) and libpunchcore.so is put in target/debug. The contract
# suite, the bindings and Kotlin use them.
step "build binaries (Rust $MSRV)" "${MSRV_CARGO[@]}" build "${MSRV_FEATURES[@]}" --features punch-ffi/bench
SERVER_TESTS="$(test_bin punch-server integration)"
SIGNIN_MEMORY_TEST="$(test_bin punch-server signin_memory)"
E2E_TESTS="$(test_bin punch-tests integration)"
step_wait setup

# Beside the test runs, each in its own target dir (so none waits for
# another's lock): the ARM64 build of the core's tests, the Android native
# check, and swift-check.
step_bg "arm64 + android + swift-check builds" bash -c "
  set -euo pipefail
  CARGO_TARGET_DIR=target/cross cargo test --locked --no-run \
    --target aarch64-unknown-linux-gnu -p punch-model -p punch-sqlite -p punch-core
  # The Android native build without an NDK: the mobile feature set (no
  # reqwest/rustls) checked for arm64-v8a, the 16 KB page flags present.
  timeout 1200 ./scripts/build-android.sh --check
  CARGO_TARGET_DIR=target/swift-check cargo test --locked -p swift-check
  CARGO_TARGET_DIR=target/swift-check cargo build --locked -p swift-check"

# Every test binary of the build, the two long suites beside the rest
# (scripts/lib/run-tests.sh); then the doc tests.
step "tests (SQLite)" bash -c "./scripts/lib/run-tests.sh target/steps/test-build.json \
  && ${MSRV_CARGO[*]} test ${MSRV_FEATURES[*]} --doc"

# The server's suites again on PostgreSQL: the same binaries, the back end
# chosen by PUNCH_TEST_DB, each database a fresh one, the two beside each
# other. Modules that never open a server store are skipped.
pg_start -c fsync=off -c synchronous_commit=off
step "server and end-to-end tests (PostgreSQL)" env PUNCH_TEST_DB="$PUNCH_PG_URL" ./scripts/lib/run-tests.sh --only \
  "server|$SERVER_TESTS|--skip cli:: --skip openapi:: --skip pin_smtp::" \
  "server|$SIGNIN_MEMORY_TEST|" \
  "tests|$E2E_TESTS|--skip crash:: --skip decoder_mutation:: --skip properties_geofence:: --skip quickstart::"
step "reviewer page (Chromium)" bash -c "cd server && '$SERVER_TESTS' --ignored web_e2e::"
step "punch page with a passkey (Chromium)" bash -c "cd server && '$SERVER_TESTS' --ignored web_browser_punch::"
# Load test, smoke size, on SQLite and PostgreSQL (the full one: server/README.md).
step "load smoke test" target/debug/scale_bench --smoke
pg_stop
# The contract suite: schemathesis against the live server, bounded; beside
# the JVM steps below (it is one Python process and a server, mostly one
# core; they are Maven and Kotlin's compiler).
step_bg "contract suite" env PUNCH_PREBUILT=1 ./scripts/contract.sh 40
# Kotlin on a JVM: the generated bindings + coroutine layer, tested against
# the real punch-server on 127.0.0.1 with target/debug/libpunchcore.so built
# with the `bench` feature (its benchmark object and panicProbe are tested
# too; the shipped library and the checked-in sources have neither): its
# Kotlin generated beside the hand-written.
step "bench bindings" env PUNCH_PREBUILT=1 ./scripts/gen-bindings.sh --bench target/kotlin-bench
KOTLIN_BENCH=(-Dpunch.bench.sources="$PWD/target/kotlin-bench")
step "kotlin tests" mvn -B --no-transfer-progress -f bindings/kotlin/pom.xml test "${KOTLIN_BENCH[@]}"
# Again with every coroutine on Dispatchers.Unconfined, where a library that
# blocks in a callback deadlocks (mozilla/uniffi-rs#1901). The compiled suite
# again, beside the Robolectric run (its own Maven project and target dir);
# mostly waiting on servers and backoff, so it takes little of the CPU.
step_bg "kotlin tests (Unconfined)" mvn -B -q --no-transfer-progress -f bindings/kotlin/pom.xml \
  surefire:test -Dpunch.dispatcher=unconfined "${KOTLIN_BENCH[@]}"
# The Android SDK's adapters under Robolectric (Android 14), and one punch
# from them through libpunchcore.so to the real server.
step "android sdk tests (Robolectric)" timeout 900 ./scripts/test-android-sdk.sh
# The keep-rules check recompiles bindings/kotlin: the run above ends first.
step_wait "kotlin tests (Unconfined)"
# The SDK's consumer R8/ProGuard rules: Kotlin tests run from a jar that
# ProGuard shrank and obfuscated with them (android-sdk/consumer-rules.pro).
step "keep rules (ProGuard)" timeout 900 ./scripts/check-keep-rules.sh
# The Swift package's release script: zip layout, symlinks, SwiftPM checksum.
step "swift release script" bash bindings/swift/tests/release-test.sh
# The Android demo's Kotlin, compiled against the Android framework API jar.
step "android demo compile" ./android-demo/check-compile.sh
# The checked-in Kotlin and Swift sources are exactly what the shipped
# library generates: one without `bench`, so punch-ffi is relinked without
# it (last: every step above loads the `bench` one).
step "bindings drift" bash -c "${MSRV_CARGO[*]} build ${MSRV_FEATURES[*]} && PUNCH_PREBUILT=1 ./scripts/gen-bindings.sh --check"
step_wait "contract suite"

# ARM64: the core's test suite (ring's ARM code, SQLite) under qemu-user.
# Skipped there: the one test that re-executes its own binary (with TZ set),
# which qemu-user cannot do without binfmt_misc, absent in containers.
step_wait "arm64 + android + swift-check builds"
# No Swift compiler runs here: every Swift file is read with a real Swift
# grammar (tree-sitter-swift), and hand-written switches over generated
# enums must name every case (bindings/swift/README.md).
step "swift syntax and cases" target/swift-check/debug/swift-check
step "arm64 tests (qemu)" env CARGO_TARGET_DIR=target/cross cargo test --locked \
  --target aarch64-unknown-linux-gnu -p punch-model -p punch-sqlite -p punch-core \
  -- --skip clock::tests::offset_follows_the_host_zone
