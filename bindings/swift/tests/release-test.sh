#!/usr/bin/env bash
# release-xcframework.sh on a stand-in framework: the zip has the framework
# at its root, the printed checksum is the zip's SHA-256, and dist/Package.swift
# points the binary target at the URL with that checksum. Runs on Linux.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fw="$tmp/punchcoreFFI.xcframework"
mkdir -p "$fw/ios-arm64/punchcoreFFI.framework/Modules"
echo '<plist/>' >"$fw/Info.plist"
echo 'not a library' >"$fw/ios-arm64/punchcoreFFI.framework/punchcoreFFI"
echo 'framework module punchcoreFFI {}' >"$fw/ios-arm64/punchcoreFFI.framework/Modules/module.modulemap"
# A macOS framework's Versions/Current is a symlink and must stay one.
mkdir -p "$fw/macos-arm64_x86_64/punchcoreFFI.framework/Versions/A"
ln -s A "$fw/macos-arm64_x86_64/punchcoreFFI.framework/Versions/Current"

out=$(XCFRAMEWORK="$fw" DIST="$tmp/dist" "$here/release-xcframework.sh" https://example.com/releases/ 1.2.3)
zip="$tmp/dist/punchcoreFFI-1.2.3.xcframework.zip"
fail() { echo "release-test: $*" >&2; exit 1; }
[[ -f $zip ]] || fail "no zip"
# Listings are read whole first: `grep -q` stops early, and under pipefail
# the listing command's SIGPIPE would fail the test at random.
names=$(unzip -Z1 "$zip")
long=$(unzip -Z "$zip")
sum=$(sha256sum "$zip" | cut -d' ' -f1)
grep -q "checksum: $sum" <<<"$out" || fail "printed checksum is not the zip's SHA-256"
grep -qx 'punchcoreFFI.xcframework/Info.plist' <<<"$names" || fail "framework not at the zip's root"
grep -qx 'punchcoreFFI.xcframework/ios-arm64/punchcoreFFI.framework/Modules/module.modulemap' <<<"$names" || fail "a slice's content is missing"
grep -q '^l.*punchcoreFFI.framework/Versions/Current$' <<<"$long" || fail "symlink not kept"
grep -qF "url: \"https://example.com/releases/punchcoreFFI-1.2.3.xcframework.zip\", checksum: \"$sum\"" "$tmp/dist/Package.swift" \
  || fail "dist/Package.swift does not point at the zip with its checksum"
grep -q 'path: "punchcoreFFI.xcframework"' "$tmp/dist/Package.swift" && fail "dist/Package.swift still has the local path"
echo "release-test: ok"
