#!/usr/bin/env bash
# Release sizes of libpunchcore.so (profile release-ffi: opt-level z, LTO,
# one codegen unit, unwinding kept) for x86_64 and ARM64 (and ARM64 as the
# phones get it: without reqwest/rustls, with scripts/lib/mobile-env.sh),
# stripped, each library's largest sections, and the phones' library's
# largest symbols (target/lib-sizes/largest-symbols-aarch64-mobile.txt).
# Bindings are generated from the debug build, so stripping the release
# library loses nothing they need.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_PROFILE_RELEASE_FFI_STRIP=false  # strip below, after listing the largest symbols

out=target/lib-sizes
mkdir -p "$out"
cargo build --locked -p punch-ffi --profile release-ffi
cargo build --locked -p punch-ffi --profile release-ffi --target aarch64-unknown-linux-gnu
cp target/aarch64-unknown-linux-gnu/release-ffi/libpunchcore.so "$out/desktop-aarch64.so"
# The phone build (scripts/build-android.sh): no reqwest/rustls; aarch64
# Linux stands in for arm64-v8a (no NDK here).
# Built and linked as build-android.sh builds it (the cdylib alone; lld,
# identical code folding, packed relocations), in a target dir of its own:
# other flags, another build.
(
  source scripts/lib/mobile-env.sh
  export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUSTFLAGS="$STANDIN_LINK_FLAGS" CARGO_TARGET_DIR=target/mobile-standin
  cargo rustc "${MOBILE_CARGO_ARGS[@]}" --target aarch64-unknown-linux-gnu
)
aarch64-linux-gnu-strip -o "$out/libpunchcore-aarch64-mobile.so" \
  target/mobile-standin/aarch64-unknown-linux-gnu/release-ffi/libpunchcore.so
# An SQLITE_OMIT_* the amalgamation does not support leaves its parser
# calling what the option removed, and a shared library links anyway: the
# loader would refuse it on the phone.
if aarch64-linux-gnu-nm -D --undefined-only "$out/libpunchcore-aarch64-mobile.so" | grep -w 'sqlite3[A-Za-z_]*'; then
  echo "mobile library: SQLite symbols left undefined (LIBSQLITE3_FLAGS in scripts/lib/mobile-env.sh)" >&2
  exit 1
fi

strip -o "$out/libpunchcore-x86_64.so" target/release-ffi/libpunchcore.so
aarch64-linux-gnu-strip -o "$out/libpunchcore-aarch64.so" "$out/desktop-aarch64.so"
rm "$out/desktop-aarch64.so"
# What takes the space in the phones' library: its largest symbols (code
# and tables; C statics are SQLite's or ring's), before stripping.
aarch64-linux-gnu-nm -S --size-sort -C target/mobile-standin/aarch64-unknown-linux-gnu/release-ffi/libpunchcore.so \
  | tail -n 60 | tac >"$out/largest-symbols-aarch64-mobile.txt"
for f in "$out"/libpunchcore-*.so; do
  # Sections over 16 KB, largest first (unwind tables: .eh_frame,
  # .eh_frame_hdr, .gcc_except_table), on stderr beside the JSON lines.
  echo "$(basename "$f"):" >&2
  size -A "$f" | awk 'NR > 2 && $2 > 16384 { printf "  %-20s %9d\n", $1, $2 }' | sort -k2 -rn >&2
  printf '{"bench":"lib_size_%s","value":%s,"unit":"bytes"}\n' \
    "$(basename "$f" .so | sed 's/libpunchcore-//')" "$(stat -c %s "$f")"
done
