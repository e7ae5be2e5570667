#!/usr/bin/env bash
# The Android SDK's tests on the JVM (android-sdk/pom.xml): the platform
# adapters under Robolectric on Android 11, 14 and 16 (SDK 30, 34, 36), and one
# punch from the adapters through the host-built libpunchcore.so to the real
# punch-server. Needs the debug build (cargo build --workspace) and Maven's
# artifacts (scripts/setup.sh). Extra arguments go to Maven (e.g. -Dtest=AdaptersTest).
# Robolectric's SDK 35+ need Java 21+: the tests run on PUNCH_TEST_JDK, else
# the newest JDK 21+ in /usr/lib/jvm (CI's Temurin), else JAVA_HOME or the
# `java` on PATH if that is 21+; Maven itself may stay on the default Java 17.
set -euo pipefail
cd "$(dirname "$0")/../android-sdk"

# The feature version of the JDK at $1 ("25" for 25.0.3, "8" for 1.8.0), or nothing.
jdk_version() {
  local v
  v=$(sed -n 's/^JAVA_VERSION="\(.*\)"$/\1/p' "$1/release" 2>/dev/null) || true
  [ -x "$1/bin/java" ] && [ -n "$v" ] || return 0
  v=${v#1.}
  echo "${v%%[.+-]*}"
}
find_test_jdk() {
  local candidates=() jdk v best="" best_v=0
  [ -n "${PUNCH_TEST_JDK:-}" ] && { echo "$PUNCH_TEST_JDK"; return; }
  candidates+=(/usr/lib/jvm/*/)
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  command -v java >/dev/null && candidates+=("$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")")
  for jdk in "${candidates[@]}"; do
    jdk=${jdk%/}
    v=$(jdk_version "$jdk")
    if [ -n "$v" ] && [ "$v" -ge 21 ] && [ "$v" -gt "$best_v" ]; then best=$jdk best_v=$v; fi
  done
  echo "$best"
}
test_jdk=$(find_test_jdk)
v=$( [ -n "$test_jdk" ] && jdk_version "$test_jdk" || true)
if [ -z "$test_jdk" ] || [ -z "$v" ] || [ "$v" -lt 21 ]; then
  echo "test-android-sdk: Robolectric's Android 16 (SDK 36) needs a Java 21+ JDK to run the tests," >&2
  echo "  and none was found${test_jdk:+ ($test_jdk is Java ${v:-unknown})} in PUNCH_TEST_JDK, /usr/lib/jvm, JAVA_HOME or PATH." >&2
  echo "  CI machines have Temurin 25 in /usr/lib/jvm; elsewhere install a JDK 21+ and point PUNCH_TEST_JDK at it." >&2
  exit 1
fi
echo "test-android-sdk: tests run on Java $v ($test_jdk)"

mvn -B -q -o --no-transfer-progress test-compile
# androidx.test:monitor comes as an .aar: Robolectric needs its classes.jar.
deps=target/robolectric-deps
unzip -o -q "$deps"/monitor-*.aar classes.jar -d "$deps/monitor" && mv "$deps/monitor/classes.jar" "$deps/monitor-classes.jar"
mvn -B -o --no-transfer-progress surefire:test -Dpunch.test.jdk="$test_jdk" "$@"
