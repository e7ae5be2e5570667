#!/usr/bin/env bash
# Builds libpunchcore and writes the Kotlin and Swift sources from it with
# the workspace's pinned uniffi-bindgen. Generated files are never edited by
# hand: change the Rust and run this again.
#   scripts/gen-bindings.sh          regenerate the checked-in sources
#   scripts/gen-bindings.sh --check  fail if the checked-in sources differ
#   scripts/gen-bindings.sh --bench DIR
#                                    the Kotlin of a library built with the
#                                    `bench` feature (the benchmark object,
#                                    panicProbe) into DIR, beside copies of the
#                                    hand-written sources: what the Kotlin suite
#                                    compiles with -Dpunch.bench.sources=DIR
# The checked-in sources are generated without `bench`: they must match the
# library an app ships, which has neither.
# PUNCH_LIB: the library to read (default target/debug/libpunchcore.so).
set -euo pipefail
cd "$(dirname "$0")/.."

KOTLIN_OUT=bindings/kotlin/src/main/kotlin
SWIFT_OUT=bindings/swift/Sources/PunchCore
SWIFT_FFI_OUT=bindings/swift/include

# Metadata is the same in debug and release: the debug build is the one
# cargo test already has. uniffi-bindgen reads it from the unstripped library.
# --workspace: the same feature set as `cargo test --workspace`, so this
# reuses that build instead of compiling uniffi a second way.
# scripts/test.sh has built everything already (PUNCH_PREBUILT=1).
mode="${1:-}"
BUILD=(--locked --workspace)
[ "$mode" = "--bench" ] && BUILD+=(--features punch-ffi/bench)
[ -n "${PUNCH_PREBUILT:-}" ] || cargo build "${BUILD[@]}"
LIB="${PUNCH_LIB:-target/debug/libpunchcore.so}"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
target/debug/uniffi-bindgen generate "$LIB" --language kotlin --no-format --out-dir "$tmp/kotlin" >/dev/null
target/debug/uniffi-bindgen generate "$LIB" --language swift --no-format --out-dir "$tmp/swift" >/dev/null

# Kotlin: one file under the package's folder. Swift: the source for the
# package, the C header and module map for the XCFramework.
mkdir -p "$tmp/out/kotlin" "$tmp/out/swift" "$tmp/out/ffi"
cp -R "$tmp/kotlin/." "$tmp/out/kotlin/"
cp "$tmp/swift/PunchCore.swift" "$tmp/out/swift/PunchCore.swift"
cp "$tmp/swift/punchcoreFFI.h" "$tmp/out/ffi/punchcoreFFI.h"
cp "$tmp/swift/punchcoreFFI.modulemap" "$tmp/out/ffi/module.modulemap"

if [ "$mode" = "--bench" ]; then
  out="${2:?usage: $0 --bench DIR}"
  rm -rf "$out"
  mkdir -p "$out"
  cp -R "$KOTLIN_OUT/." "$out/"
  cp "$tmp/out/kotlin/dev/punchcore/punchcore.kt" "$out/dev/punchcore/punchcore.kt"
  grep -q 'fun `panicProbe`' "$out/dev/punchcore/punchcore.kt" \
    || { echo "$LIB was not built with the bench feature" >&2; exit 1; }
  echo "bench bindings written: $out"
  exit 0
fi

if grep -q 'fun `panicProbe`' "$tmp/out/kotlin/dev/punchcore/punchcore.kt"; then
  echo "$LIB was built with the bench feature: the checked-in sources come from a build without it" >&2
  exit 1
fi

if [ "$mode" = "--check" ]; then
  status=0
  # Only the generated file: Coroutines.kt beside it is hand-written.
  diff -u "$KOTLIN_OUT/dev/punchcore/punchcore.kt" "$tmp/out/kotlin/dev/punchcore/punchcore.kt" || status=1
  diff -u "$SWIFT_OUT/PunchCore.swift" "$tmp/out/swift/PunchCore.swift" || status=1
  diff -ru "$SWIFT_FFI_OUT" "$tmp/out/ffi" || status=1
  if [ $status -ne 0 ]; then
    echo "generated bindings differ from the checked-in ones: run scripts/gen-bindings.sh and commit" >&2
    exit 1
  fi
  echo "bindings: generated sources match the checked-in ones"
  exit 0
fi

mkdir -p "$KOTLIN_OUT" "$SWIFT_OUT" "$SWIFT_FFI_OUT"
rm -rf "$KOTLIN_OUT/dev/punchcore/punchcore.kt" "$SWIFT_FFI_OUT"/*
cp -R "$tmp/out/kotlin/." "$KOTLIN_OUT/"
cp "$tmp/out/swift/PunchCore.swift" "$SWIFT_OUT/PunchCore.swift"
cp "$tmp/out/ffi/." "$SWIFT_FFI_OUT/" -R
echo "bindings written: $KOTLIN_OUT, $SWIFT_OUT, $SWIFT_FFI_OUT"
