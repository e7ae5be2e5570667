#!/usr/bin/env bash
# Punch and evaluate through Kotlin (JNA + generated bindings) against the
# same calls timed inside Rust, in one run on the shipped library profile.
# Prints JSON lines {"bench","value","unit","baseline","ratio"}. The issue's
# ratio is kotlin_punch_vs_rust_punch; beside it, in the same rounds, the
# same punch through uniffi's async protocol (Swift's path, Kotlin's before
# HotCalls.kt) and the hot call's blocking half on the caller's thread (the
# crossing without the thread switches): what a loaded machine adds to the
# switches shows there. ffi_* lines break one call down.
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
