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

out=$(XCFRAMEWORK="$fw" DIST="$tmp/dist" "$here/release-xcframework.sh" https://example.com/releases/ 1.2.3)
zip="$tmp/dist/punchcoreFFI-1.2.3.xcframework.zip"
fail() { echo "release-test: $*" >&2; exit 1; }
[[ -f $zip ]] || fail "no zip"
sum=$(sha256sum "$zip" | cut -d' ' -f1)
grep -q "checksum: $sum" <<<"$out" || fail "printed checksum is not the zip's SHA-256"
unzip -Z1 "$zip" | grep -qx 'punchcoreFFI.xcframework/Info.plist' || fail "framework not at the zip's root"
unzip -Z1 "$zip" | grep -qx 'punchcoreFFI.xcframework/ios-arm64/punchcoreFFI.framework/Modules/module.modulemap' || fail "a slice's content is missing"
grep -qF "url: \"https://example.com/releases/punchcoreFFI-1.2.3.xcframework.zip\", checksum: \"$sum\"" "$tmp/dist/Package.swift" \
  || fail "dist/Package.swift does not point at the zip with its checksum"
grep -q 'path: "punchcoreFFI.xcframework"' "$tmp/dist/Package.swift" && fail "dist/Package.swift still has the local path"
echo "release-test: ok"
