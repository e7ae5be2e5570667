#!/usr/bin/env bash
# Packs punchcoreFFI.xcframework for consumption by URL:
#   release-xcframework.sh BASE_URL VERSION
# writes dist/punchcoreFFI-VERSION.xcframework.zip (the framework at the
# zip's root, as SwiftPM expects), prints its checksum (the SHA-256 that
# `swift package compute-checksum` gives) and writes dist/Package.swift,
# this package with the binary target pointing at BASE_URL/<zip>. Upload
# the zip there and tag a commit carrying that Package.swift.
# Runs on a Mac after build-xcframework.sh; the zip and checksum part also
# runs on Linux (tests/release-test.sh). XCFRAMEWORK / DIST override paths.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[[ $# -eq 2 ]] || { echo "usage: $0 BASE_URL VERSION" >&2; exit 2; }
base_url=${1%/}
version=$2
framework=${XCFRAMEWORK:-$here/punchcoreFFI.xcframework}
dist=${DIST:-$here/dist}
[[ -d $framework ]] || { echo "$framework does not exist: run build-xcframework.sh first" >&2; exit 1; }

name="punchcoreFFI-$version.xcframework.zip"
mkdir -p "$dist"
zip_path="$dist/$name"
rm -f "$zip_path"
parent=$(dirname "$framework")
leaf=$(basename "$framework")
if command -v ditto >/dev/null; then
  # Apple's recommended way: keeps symlinks and the framework as the root folder.
  (cd "$parent" && ditto -c -k --sequesterRsrc --keepParent "$leaf" "$zip_path")
else
  (cd "$parent" && zip -q -r -y -X "$zip_path" "$leaf")
fi

if command -v swift >/dev/null; then
  checksum=$(swift package compute-checksum "$zip_path")
elif command -v sha256sum >/dev/null; then
  checksum=$(sha256sum "$zip_path" | cut -d' ' -f1)
else
  checksum=$(shasum -a 256 "$zip_path" | cut -d' ' -f1)
fi

target=".binaryTarget(name: \"punchcoreFFI\", url: \"$base_url/$name\", checksum: \"$checksum\")"
local_target='.binaryTarget(name: "punchcoreFFI", path: "punchcoreFFI.xcframework")'
grep -qF "$local_target" "$here/Package.swift" || {
  echo "Package.swift has no local binary target to replace" >&2
  exit 1
}
python3 - "$here/Package.swift" "$dist/Package.swift" "$local_target" "$target" <<'PY'
import sys
source, out, old, new = sys.argv[1:]
text = open(source).read()
open(out, "w").write(text.replace(old, new))
PY
echo "zip:      $zip_path"
echo "checksum: $checksum"
echo "target:   $target"
