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
# selection resolves features anew and rebuilds shared crates. Steps that do
# not need the host's CPU at the same moment run beside each other: the
# installs (network) beside the first compile, the MSRV check and the ARM64
# build beside the test runs.
set -euo pipefail
cd "$(dirname "$0")/.."
MSRV=1.89
FEATURES=(--workspace --locked --features punch-server/smtp)

quick=false
case "${1:-}" in
  --quick) quick=true ;;
  "") ;;
  *) echo "usage: $0 [--quick]" >&2; exit 2 ;;
esac

source scripts/lib/steps.sh
source scripts/lib/postgres.sh
trap 'pg_stop; steps_summary' EXIT

step "rust components" ./scripts/setup.sh rust
if ! $quick; then
  # Debian packages, the MSRV toolchain, the ARM64 target, Python and npm
  # packages, Maven artifacts: mostly network, so beside the first compile.
  step_bg setup ./scripts/setup.sh
fi

step fmt cargo fmt --all -- --check
step clippy cargo clippy "${FEATURES[@]}" --all-targets -- -D warnings

if $quick; then
  step "tests (SQLite)" cargo test "${FEATURES[@]}"
  exit 0
fi

step doc env RUSTDOCFLAGS="-D warnings" cargo doc "${FEATURES[@]}" --no-deps

# No import circles between the modules of any crate.
if [ -f ../shared/tools/modcycles.py ]; then
  step "import circles" python3 ../shared/tools/modcycles.py .
fi

# Build every test binary once; later steps run them by path.
step "build tests" cargo test "${FEATURES[@]}" --no-run --message-format=json-render-diagnostics \
  >target/steps/test-build.json
test_bin() { # PACKAGE TARGET -> the test executable cargo built
  python3 -c '
import json, sys
pkg, target, build = sys.argv[1:4]
for line in open(build):
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["profile"]["test"] \
            and m["target"]["name"] == target and m["package_id"].split("#")[-1].split("@")[0] == pkg:
        print(m["executable"])
        break
else:
    sys.exit(f"no test binary {target} of {pkg} in the build")
' "$1" "$2" target/steps/test-build.json
}
# The plain binaries and the FFI library too (the same feature set: nothing
# rebuilt); the contract suite, the bindings check and Kotlin use them.
step "build binaries" cargo build "${FEATURES[@]}"
SERVER_TESTS="$(test_bin punch-server integration)"
SIGNIN_MEMORY_TEST="$(test_bin punch-server signin_memory)"
E2E_TESTS="$(test_bin punch-tests integration)"
step_wait setup

# Beside the test runs: the declared rust-version must really build (its own
# target dir), and the ARM64 build of the core's tests (own target dir too,
# so neither waits for the other's lock).
step_bg "msrv + arm64 + android build" bash -c "
  set -euo pipefail
  CARGO_TARGET_DIR=target/msrv cargo +$MSRV check --workspace --locked --exclude swift-check
  CARGO_TARGET_DIR=target/cross cargo test --locked --no-run \
    --target aarch64-unknown-linux-gnu -p punch-model -p punch-sqlite -p punch-core
  # The Android native build without an NDK: the mobile feature set (no
  # reqwest/rustls) checked for arm64-v8a, the 16 KB page flags present.
  timeout 1200 ./scripts/build-android.sh --check"

step "tests (SQLite)" cargo test "${FEATURES[@]}"

# The server's suites again on PostgreSQL: the same binaries, the back end
# chosen by PUNCH_TEST_DB. Modules that never open a server store are skipped.
pg_start -c fsync=off -c synchronous_commit=off
step "server tests (PostgreSQL)" bash -c "cd server && export PUNCH_TEST_DB='$PUNCH_PG_URL' \
  && '$SERVER_TESTS' --skip cli:: --skip openapi:: --skip pin_smtp:: && '$SIGNIN_MEMORY_TEST'"
step "end-to-end tests (PostgreSQL)" bash -c "cd tests && PUNCH_TEST_DB='$PUNCH_PG_URL' '$E2E_TESTS' \
  --skip crash:: --skip decoder_mutation:: --skip properties_geofence:: --skip quickstart::"
# The reviewer page in headless Chromium (screenshots: target/web-screens/).
step "reviewer page (Chromium)" bash -c "cd server && '$SERVER_TESTS' --ignored web_e2e::"
step "punch page with a passkey (Chromium)" bash -c "cd server && '$SERVER_TESTS' --ignored web_browser_punch::"
# Load test, smoke size, on SQLite and PostgreSQL (the full one: server/README.md).
step "load smoke test" target/debug/scale_bench --smoke
pg_stop
# The contract suite: schemathesis against the live server, bounded.
step "contract suite" env PUNCH_PREBUILT=1 ./scripts/contract.sh 40
# The checked-in Kotlin and Swift sources are exactly what the library generates.
# From the library without the `bench` feature (the test runs above relinked
# it with the feature their dev-dependency turns on): cargo relinks punch-ffi.
step "bindings drift" bash -c "cargo build ${FEATURES[*]} && PUNCH_PREBUILT=1 ./scripts/gen-bindings.sh --check"
# Kotlin on a JVM: the generated bindings + coroutine layer, tested against
# the real punch-server on 127.0.0.1 with target/debug/libpunchcore.so built
# with the `bench` feature (its benchmark object and panicProbe are tested
# too; the shipped library and the checked-in sources have neither): only
# punch-ffi is rebuilt, and its Kotlin generated beside the hand-written.
step "bench bindings" bash -c "cargo build ${FEATURES[*]} --features punch-ffi/bench \
  && PUNCH_PREBUILT=1 ./scripts/gen-bindings.sh --bench target/kotlin-bench"
KOTLIN_BENCH=(-Dpunch.bench.sources="$PWD/target/kotlin-bench")
step "kotlin tests" mvn -B --no-transfer-progress -f bindings/kotlin/pom.xml test "${KOTLIN_BENCH[@]}"
# Again with every coroutine on Dispatchers.Unconfined, where a library that
# blocks in a callback deadlocks (mozilla/uniffi-rs#1901).
step "kotlin tests (Unconfined)" mvn -B -q --no-transfer-progress -f bindings/kotlin/pom.xml \
  surefire:test -Dpunch.dispatcher=unconfined "${KOTLIN_BENCH[@]}"
# The Android SDK's adapters under Robolectric (Android 14), and one punch
# from them through libpunchcore.so to the real server.
step "android sdk tests (Robolectric)" timeout 900 ./scripts/test-android-sdk.sh
# The SDK's consumer R8/ProGuard rules: Kotlin tests run from a jar that
# ProGuard shrank and obfuscated with them (android-sdk/consumer-rules.pro).
step "keep rules (ProGuard)" timeout 900 ./scripts/check-keep-rules.sh
# No Swift compiler runs here: every Swift file is read with a real Swift
# grammar (tree-sitter-swift), and hand-written switches over generated
# enums must name every case (bindings/swift/README.md).
step "swift syntax and cases" target/debug/swift-check
# The Swift package's release script: zip layout, symlinks, SwiftPM checksum.
step "swift release script" bash bindings/swift/tests/release-test.sh
# The Android demo's Kotlin, compiled against the Android framework API jar.
step "android demo compile" ./android-demo/check-compile.sh

# ARM64: the core's test suite (ring's ARM code, SQLite) under qemu-user.
# Skipped there: the one test that re-executes its own binary (with TZ set),
# which qemu-user cannot do without binfmt_misc, absent in containers.
step_wait "msrv + arm64 + android build"
step "arm64 tests (qemu)" env CARGO_TARGET_DIR=target/cross cargo test --locked \
  --target aarch64-unknown-linux-gnu -p punch-model -p punch-sqlite -p punch-core \
  -- --skip clock::tests::offset_follows_the_host_zone
