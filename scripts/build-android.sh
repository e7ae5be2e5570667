#!/usr/bin/env bash
# Builds libpunchcore.so for the Android ABIs with cargo-ndk into the SDK
# module's jniLibs, without reqwest/rustls (the app's OkHttp is the
# transport), 16 KB page-aligned (Google Play requires it for targetSdk 35+
# devices with 16 KB pages), and keeps the unstripped libraries with their
# debug symbols beside the stripped ones so native crashes can be
# symbolicated (upload target/android-symbols/ to Play Console / Crashlytics).
#   scripts/build-android.sh            arm64-v8a, armeabi-v7a, x86_64
#   scripts/build-android.sh --check    what runs without an NDK (CI): cargo
#                                       check for arm64-v8a with the mobile
#                                       feature set, no reqwest/rustls in its
#                                       tree, and the flags below
#   scripts/build-android.sh --check-all the same for every ABI
# Needs for a real build: NDK $NDK_VERSION (ANDROID_NDK_HOME), `cargo install
# cargo-ndk --version $CARGO_NDK_VERSION`, `rustup target add` for each ABI.
set -euo pipefail
cd "$(dirname "$0")/.."

# Pinned: r28 links 16 KB-aligned by default; the flag below says so anyway,
# so an older NDK cannot silently produce 4 KB-aligned libraries.
NDK_VERSION=28.2.13676358
CARGO_NDK_VERSION=4.1.2
MIN_SDK=26 # android-sdk/build.gradle.kts minSdk
ABIS=(arm64-v8a armeabi-v7a x86_64)
TARGETS=(aarch64-linux-android armv7-linux-androideabi x86_64-linux-android)
PAGE_FLAGS="-C link-arg=-Wl,-z,max-page-size=16384 -C link-arg=-Wl,-z,common-page-size=16384"
# The mobile feature set: no built-in HTTP client; and the phone's build
# settings (SQLite without what the phone never uses; the cdylib built alone).
CARGO_ARGS=(--locked -p punch-ffi --no-default-features)
source scripts/lib/mobile-env.sh

if [ "${1:-}" = "--check" ] || [ "${1:-}" = "--check-all" ]; then
  # CI checks one ABI (a full dependency build per target on 2 cores).
  [ "$1" = "--check-all" ] || TARGETS=(aarch64-linux-android)
  for flag in "max-page-size=16384" "common-page-size=16384"; do
    grep -q -- "$flag" <<<"$PAGE_FLAGS" || { echo "16 KB page flag $flag missing" >&2; exit 1; }
  done
  grep -q -- "--crate-type cdylib" <<<"${MOBILE_CARGO_ARGS[*]}" || { echo "the cdylib is not built alone" >&2; exit 1; }
  for flag in "--icf=all" "--pack-dyn-relocs=android"; do
    grep -q -- "$flag" <<<"$ANDROID_LINK_FLAGS" || { echo "size link flag $flag missing" >&2; exit 1; }
  done
  checked=0
  for t in "${TARGETS[@]}"; do
    if rustup target list --installed | grep -qx "$t" || rustup target add "$t" >/dev/null 2>&1; then
      # cargo check links nothing, but build scripts compile C (bundled SQLite,
      # ring): without an NDK the host's cross gcc stands in for the NDK's
      # clang (glibc headers, not bionic: a compile check of the Rust only).
      t_env=${t//-/_}
      case "$t" in
        aarch64-*) standin=aarch64-linux-gnu ;;
        x86_64-*) standin=x86_64-linux-gnu ;;
        armv7-*) standin=arm-linux-gnueabihf ;;
      esac
      if [ -z "${ANDROID_NDK_HOME:-}" ] && command -v "$standin-gcc" >/dev/null; then
        export "CC_$t_env=$standin-gcc" "AR_$t_env=$standin-ar"
      fi
      # -O0 for the C: a check links and runs nothing.
      CARGO_TARGET_DIR=target/android-check cargo check "${CARGO_ARGS[@]}" --target "$t" \
        --config 'profile.dev.package.libsqlite3-sys.opt-level=0' \
        --config 'profile.dev.package.ring.opt-level=0'

      checked=$((checked + 1))
    else
      echo "android: rust target $t not installable here; not checked" >&2
    fi
  done
  [ "$checked" -gt 0 ] || { echo "android: no Android target could be checked" >&2; exit 1; }
  # reqwest and rustls stay out of the mobile build.
  if cargo tree "${CARGO_ARGS[@]}" -e normal --target aarch64-linux-android 2>/dev/null \
      | grep -E '^.*(reqwest|rustls) v' ; then
    echo "android: reqwest/rustls are in the mobile dependency tree" >&2
    exit 1
  fi
  echo "android: $checked of ${#TARGETS[@]} targets checked, 16 KB page and size link flags present, no reqwest/rustls"
  exit 0
fi

: "${ANDROID_NDK_HOME:?set ANDROID_NDK_HOME to NDK $NDK_VERSION}"
grep -q "Pkg.Revision = $NDK_VERSION" "$ANDROID_NDK_HOME/source.properties" \
  || { echo "NDK $NDK_VERSION required (found $(grep Pkg.Revision "$ANDROID_NDK_HOME/source.properties"))" >&2; exit 1; }
cargo ndk --version | grep -q "$CARGO_NDK_VERSION" \
  || { echo "cargo-ndk $CARGO_NDK_VERSION required" >&2; exit 1; }

jni=android-sdk/src/main/jniLibs
symbols=target/android-symbols
rm -rf "$jni" "$symbols"
# Unstripped here; stripped copies go into jniLibs below.
export CARGO_PROFILE_RELEASE_FFI_STRIP=false
export RUSTFLAGS="${RUSTFLAGS:-} $PAGE_FLAGS $ANDROID_LINK_FLAGS"
abi_args=()
for a in "${ABIS[@]}"; do abi_args+=(-t "$a"); done
cargo ndk "${abi_args[@]}" --platform "$MIN_SDK" -o "$symbols" \
  rustc "${MOBILE_CARGO_ARGS[@]}"

strip="$(echo "$ANDROID_NDK_HOME"/toolchains/llvm/prebuilt/*/bin/llvm-strip)"
readelf="$(echo "$ANDROID_NDK_HOME"/toolchains/llvm/prebuilt/*/bin/llvm-readelf)"
for a in "${ABIS[@]}"; do
  mkdir -p "$jni/$a"
  "$strip" --strip-unneeded -o "$jni/$a/libpunchcore.so" "$symbols/$a/libpunchcore.so"
  # An SQLITE_OMIT_* the amalgamation does not support links anyway (see
  # scripts/lib/mobile-env.sh) and the loader refuses the library.
  if "$(dirname "$strip")/llvm-nm" -D --undefined-only "$jni/$a/libpunchcore.so" | grep -w 'sqlite3[A-Za-z_]*'; then
    echo "$a: SQLite symbols left undefined" >&2
    exit 1
  fi
  # Every LOAD segment aligned to 16 KB (0x4000) or more.
  if "$readelf" -lW "$jni/$a/libpunchcore.so" | awk '$1=="LOAD" && strtonum($NF) < 16384 {bad=1} END {exit !bad}'; then
    echo "$a: a LOAD segment is aligned below 16 KB" >&2
    exit 1
  fi
  printf '%-12s %8d bytes stripped (symbols: %s)\n' "$a" "$(stat -c %s "$jni/$a/libpunchcore.so")" "$symbols/$a/libpunchcore.so"
done
