#!/usr/bin/env bash
# On a Mac with Xcode and rustup: builds libpunchcore.a for every slice
# Package.swift declares (iOS devices, iOS simulators, macOS), keeps the
# bundled SQLite private to it, wraps each in a static punchcoreFFI.framework
# with the generated C header and a framework module map, and packs them
# into punchcoreFFI.xcframework beside Package.swift.
# (Not runnable on the project's Linux machines: no Xcode there. Never run
# by the project: see README.md.)
set -euo pipefail
cd "$(dirname "$0")/../.."   # the workspace root: cargo must run inside it
# The phones' SQLite: without what the library never uses (as Android's build).
source scripts/lib/mobile-env.sh

# The minimum OS versions, exported so rustc and the C compiler building
# SQLite (cc crate) both target them; they must match Package.swift.
export IPHONEOS_DEPLOYMENT_TARGET=15.0
export MACOSX_DEPLOYMENT_TARGET=12.0
package=bindings/swift/Package.swift
grep -q "\.iOS(\.v${IPHONEOS_DEPLOYMENT_TARGET%%.*})" "$package" \
  && grep -q "\.macOS(\.v${MACOSX_DEPLOYMENT_TARGET%%.*})" "$package" || {
  echo "Package.swift's platforms differ from iOS $IPHONEOS_DEPLOYMENT_TARGET / macOS $MACOSX_DEPLOYMENT_TARGET" >&2
  exit 1
}

DEVICE=(aarch64-apple-ios)
SIMULATOR=(aarch64-apple-ios-sim x86_64-apple-ios)
MACOS=(aarch64-apple-darwin x86_64-apple-darwin)
TARGETS=("${DEVICE[@]}" "${SIMULATOR[@]}" "${MACOS[@]}")
rustup target add "${TARGETS[@]}"

# The library's references to sqlite3_* are bound to its bundled SQLite,
# then every sqlite3_* symbol is made local. Otherwise an app that also
# links the system libsqlite3 (Core Data, GRDB...) lets its linker bind
# those references to Apple's copy, or its own to ours, and can ship a
# dependency on a symbol older systems lack (matrix-org/matrix-rust-sdk#7041).
# The whole archive is merged: with release-ffi's LTO and one codegen unit
# the Rust code is a single object already, so there is little left that a
# narrower merge would keep dead-strippable.
hide_sqlite() {
  local lib=$1 work members
  work=$(mktemp -d)
  members=$(xcrun ar -t "$lib" | grep -v '^__\.SYMDEF')
  if [[ -n $(sort <<<"$members" | uniq -d) ]]; then
    echo "$lib has members with the same name; extracting it would lose some" >&2
    exit 1
  fi
  (cd "$work" && xcrun ar -x "$lib" && rm -f __.SYMDEF*)
  if [[ $(ls "$work" | wc -l) -ne $(wc -l <<<"$members") ]]; then
    echo "$lib: not every member was extracted" >&2
    exit 1
  fi
  echo '_sqlite3_*' >"$work.hidden"
  (cd "$work" && xcrun ld -r -unexported_symbols_list "$work.hidden" -o "$work.o" ./*)
  if xcrun nm -g "$work.o" | grep -q ' _sqlite3_'; then
    echo "$lib: sqlite3_* symbols are still global after the merge" >&2
    exit 1
  fi
  rm -f "$lib"
  xcrun libtool -static -o "$lib" "$work.o"
  rm -rf "$work" "$work.o" "$work.hidden"
}

# Without the built-in reqwest/rustls client (feature http-client): on
# Apple platforms the app's URLSessionTransport carries the HTTP, with the
# system's trust store, proxies and ATS.
# The static library alone (`cargo rustc --crate-type staticlib`), not beside
# the crate's rlib and cdylib: with an rlib in the same build, LTO keeps every
# public Rust symbol of every crate (scripts/lib/mobile-env.sh measured 0.6 MB
# on Android).
for t in "${TARGETS[@]}"; do
  cargo rustc --locked -p punch-ffi --lib --crate-type staticlib --profile release-ffi \
    --no-default-features --target "$t"
  hide_sqlite "target/$t/release-ffi/libpunchcore.a"
done

out=target/xcframework
rm -rf "$out" bindings/swift/punchcoreFFI.xcframework
mkdir -p "$out/ios-device" "$out/ios-simulator" "$out/macos"
lipo -create \
  target/aarch64-apple-ios-sim/release-ffi/libpunchcore.a \
  target/x86_64-apple-ios/release-ffi/libpunchcore.a \
  -output "$out/ios-simulator/libpunchcore.a"
lipo -create \
  target/aarch64-apple-darwin/release-ffi/libpunchcore.a \
  target/x86_64-apple-darwin/release-ffi/libpunchcore.a \
  -output "$out/macos/libpunchcore.a"
cp target/aarch64-apple-ios/release-ffi/libpunchcore.a "$out/ios-device/libpunchcore.a"

# Each slice is a static framework, not a bare library with headers: Xcode
# copies a bare library's Headers/ into one include/ folder shared by every
# XCFramework in the app, so two Rust libraries' module.modulemap files
# collide ("Multiple commands produce .../include/module.modulemap"), and a
# module map moved into Headers/<name>/ is not found by Xcode 26's explicit
# module scanner (boltffi/boltffi#374 and #503, redbadger/crux#539). A
# framework keeps its module map in its own Modules/ folder and is found by
# its name. The module map is uniffi's without its `use "_Builtin_*"` lines,
# which newer Xcodes reject (mozilla/uniffi-rs#2917).
# The Swift sources must match this header: regenerate them first if the
# Rust API changed (scripts/gen-bindings.sh, on any machine).
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
make_framework() {  # $1: slice folder holding libpunchcore.a; $2: ios | macos
  local dir=$1 platform=$2 fw root
  fw="$dir/punchcoreFFI.framework"
  if [[ $platform == macos ]]; then
    # macOS frameworks are versioned bundles.
    root="$fw/Versions/A"
    mkdir -p "$root/Headers" "$root/Modules" "$root/Resources"
    ln -s A "$fw/Versions/Current"
    for item in punchcoreFFI Headers Modules Resources; do ln -s "Versions/Current/$item" "$fw/$item"; done
    plist="$root/Resources/Info.plist"
    minimum="<key>LSMinimumSystemVersion</key><string>$MACOSX_DEPLOYMENT_TARGET</string>"
  else
    root=$fw
    mkdir -p "$root/Headers" "$root/Modules"
    plist="$root/Info.plist"
    minimum="<key>MinimumOSVersion</key><string>$IPHONEOS_DEPLOYMENT_TARGET</string>"
  fi
  cp "$dir/libpunchcore.a" "$root/punchcoreFFI"
  cp bindings/swift/include/punchcoreFFI.h "$root/Headers/"
  cat >"$root/Modules/module.modulemap" <<'MAP'
framework module punchcoreFFI {
    header "punchcoreFFI.h"
    export *
}
MAP
  cat >"$plist" <<PLIST
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0"><dict>
<key>CFBundleExecutable</key><string>punchcoreFFI</string>
<key>CFBundleIdentifier</key><string>org.punchcore.punchcoreFFI</string>
<key>CFBundleName</key><string>punchcoreFFI</string>
<key>CFBundlePackageType</key><string>FMWK</string>
<key>CFBundleShortVersionString</key><string>$version</string>
<key>CFBundleVersion</key><string>$version</string>
$minimum
</dict></plist>
PLIST
}
make_framework "$out/ios-device" ios
make_framework "$out/ios-simulator" ios
make_framework "$out/macos" macos

xcodebuild -create-xcframework \
  -framework "$out/ios-device/punchcoreFFI.framework" \
  -framework "$out/ios-simulator/punchcoreFFI.framework" \
  -framework "$out/macos/punchcoreFFI.framework" \
  -output bindings/swift/punchcoreFFI.xcframework
echo "wrote bindings/swift/punchcoreFFI.xcframework"
