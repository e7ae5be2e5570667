#!/usr/bin/env bash
# On a Mac with Xcode and rustup: builds libpunchcore.a for iOS devices, the
# iOS simulators and macOS, and packs them with the generated C header and
# module map into punchcoreFFI.xcframework beside Package.swift.
# (Not runnable on the project's Linux machines: no Xcode there.)
set -euo pipefail
cd "$(dirname "$0")/../.."   # the workspace root: cargo must run inside it

TARGETS=(aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios aarch64-apple-darwin)
rustup target add "${TARGETS[@]}"
for t in "${TARGETS[@]}"; do
  cargo build --locked -p punch-ffi --profile release-ffi --target "$t"
done

out=target/xcframework
rm -rf "$out" bindings/swift/punchcoreFFI.xcframework
mkdir -p "$out/sim"
# The two simulator architectures share one slice.
lipo -create \
  target/aarch64-apple-ios-sim/release-ffi/libpunchcore.a \
  target/x86_64-apple-ios/release-ffi/libpunchcore.a \
  -output "$out/sim/libpunchcore.a"

# The Swift sources must match this library: regenerate them first if the
# Rust API changed (scripts/gen-bindings.sh, on any machine).
xcodebuild -create-xcframework \
  -library target/aarch64-apple-ios/release-ffi/libpunchcore.a -headers bindings/swift/include \
  -library "$out/sim/libpunchcore.a" -headers bindings/swift/include \
  -library target/aarch64-apple-darwin/release-ffi/libpunchcore.a -headers bindings/swift/include \
  -output bindings/swift/punchcoreFFI.xcframework
echo "wrote bindings/swift/punchcoreFFI.xcframework"
