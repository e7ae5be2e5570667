#!/usr/bin/env bash
# Punch and evaluate through Kotlin (JNA + generated bindings) against the
# same calls timed inside Rust, in one run on the shipped library profile.
# Prints JSON lines {"bench","value","unit","baseline","ratio"}. The issue's
# ratio is kotlin_punch_vs_rust_punch: the punch from a coroutine already on
# Dispatchers.IO (a worker; it runs in place). Beside it, in the same rounds:
# from a single-thread dispatcher like Main (_from_main_like_caller: the hop
# to an IO thread and back), through uniffi's async protocol (Swift's path),
# and the blocking half on the bench's thread. ffi_* lines break one call
# down, ffi_punch_* / ffi_evaluate_* step by step on each side of the FFI.
set -euo pipefail
cd "$(dirname "$0")/.."
# Unstripped, as scripts/lib-sizes.sh builds it (one build serves both).
export CARGO_PROFILE_RELEASE_FFI_STRIP=false
# The benchmark object exists only with the `bench` feature (never in a
# shipped library): its Kotlin is generated from this build (pom.xml, profile
# bench), with the generator of the debug build.
cargo build --locked -p punch-ffi --profile release-ffi --features bench
cargo build --locked -p uniffi-bindgen
PUNCH_PREBUILT=1 PUNCH_LIB=target/release-ffi/libpunchcore.so \
  ./scripts/gen-bindings.sh --bench target/kotlin-bench-release >/dev/null
mvn -B --no-transfer-progress -f bindings/kotlin/pom.xml test \
  -Dtest=BenchmarkTest -Dsurefire.failIfNoSpecifiedTests=false \
  -Dpunch.bench.sources="$PWD/target/kotlin-bench-release" \
  -Dpunch.bench=true -Dpunch.native.dir="$PWD/target/release-ffi" "$@" \
  | grep '^{"bench"'
