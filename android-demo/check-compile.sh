#!/usr/bin/env bash
# Compiles the demo's Kotlin against android-all (see compile-check/pom.xml).
set -euo pipefail
cd "$(dirname "$0")"
mvn -B --no-transfer-progress -q -f compile-check/pom.xml compile
echo "android-demo: Kotlin sources compile against the Android 16 (API 36) framework (android-all)"
