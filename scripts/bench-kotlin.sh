#!/usr/bin/env bash
# Punch and evaluate through Kotlin (JNA + generated bindings) against the
# same calls timed inside Rust, in one run on the shipped library profile.
# Prints JSON lines {"bench","value","unit","baseline","ratio"}.
set -euo pipefail
cd "$(dirname "$0")/.."
# Unstripped, as scripts/lib-sizes.sh builds it (one build serves both).
export CARGO_PROFILE_RELEASE_FFI_STRIP=false
cargo build --locked -p punch-ffi --profile release-ffi
mvn -B --no-transfer-progress -f bindings/kotlin/pom.xml test \
  -Dtest=BenchmarkTest -Dsurefire.failIfNoSpecifiedTests=false \
  -Dpunch.bench=true -Dpunch.native.dir="$PWD/target/release-ffi" "$@" \
  | grep '^{"bench"'
