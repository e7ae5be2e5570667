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
# The checked-in sources are what the library an app ships generates, which
# has neither `bench` item. From a library built with `bench` (what
# scripts/test.sh's one build has), they are generated with those items
# excluded (BENCH_ONLY): the same text, without a second build.
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

# What the `bench` feature adds to the library's interface.
BENCH_ONLY='["RustBaseline", "panic_probe"]'
CONFIG=()
nm -D --defined-only "$LIB" >"$tmp/symbols" # (not piped: grep -q would cut nm short)
if [ "$mode" != "--bench" ] && grep -q 'uniffi_punchcore_fn_func_panic_probe$' "$tmp/symbols"; then
  # bindings/uniffi.toml's exclude lists plus BENCH_ONLY, as a uniffi-bindgen
  # global config (its per-crate tables replace the crate's lists).
  python3 - "$BENCH_ONLY" >"$tmp/shipped.toml" <<'PY'
import json, sys, tomllib
bindings = tomllib.load(open("bindings/uniffi.toml", "rb"))["bindings"]
for lang in ("kotlin", "swift"):
    exclude = bindings[lang].get("exclude", []) + json.loads(sys.argv[1])
    print(f"[crates.punchcore.bindings.{lang}]\nexclude = {json.dumps(exclude)}")
PY
  CONFIG=(--config "$tmp/shipped.toml")
fi
for lang in kotlin swift; do
  target/debug/uniffi-bindgen generate "$LIB" "${CONFIG[@]}" --language "$lang" --no-format \
    --out-dir "$tmp/$lang" >/dev/null
done

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

if grep -q 'panicProbe\|RustBaseline' "$tmp/out/kotlin/dev/punchcore/punchcore.kt"; then
  echo "bench items left in the shipped sources: add them to BENCH_ONLY" >&2
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
