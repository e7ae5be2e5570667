#!/usr/bin/env bash
# The Android SDK's tests on the JVM (android-sdk/pom.xml): the platform
# adapters under Robolectric (Android 14), and one punch from the adapters
# through the host-built libpunchcore.so to the real punch-server.
# Needs the debug build (cargo build --workspace) and Maven's artifacts
# (scripts/setup.sh). Extra arguments go to Maven (e.g. -Dtest=AdaptersTest).
set -euo pipefail
cd "$(dirname "$0")/../android-sdk"
mvn -B -q -o --no-transfer-progress test-compile
# androidx.test:monitor comes as an .aar: Robolectric needs its classes.jar.
deps=target/robolectric-deps
unzip -o -q "$deps"/monitor-*.aar classes.jar -d "$deps/monitor" && mv "$deps/monitor/classes.jar" "$deps/monitor-classes.jar"
mvn -B -o --no-transfer-progress surefire:test "$@"
