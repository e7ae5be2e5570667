#!/usr/bin/env bash
# Proves the SDK's consumer R8/ProGuard rules (android-sdk/consumer-rules.pro)
# on the JVM: ProGuard shrinks and obfuscates the Kotlin library, JNA, OkHttp,
# kotlinx-coroutines and a few Kotlin test classes (the "app") together, then
# those tests run from the shrunk jar against the real punch-server with
# target/debug/libpunchcore.so. Without the rules the same run fails: 14 of
# the 16 tests (JNA's own classes renamed); with JNA's rules but not the
# bindings' part, 14 of 16 too (the renamed `external` functions are looked
# up in libpunchcore.so by their new names).
#   scripts/check-keep-rules.sh                  with the rules (CI)
#   scripts/check-keep-rules.sh --without-rules  the failing control
# Needs: the debug build (cargo build --workspace) and Maven's artifacts
# (scripts/setup.sh); runs Maven offline.
set -euo pipefail
cd "$(dirname "$0")/.."
rules=android-sdk/consumer-rules.pro
case "${1:-}" in
  "") ;;
  --without-rules) rules= ;;
  *) echo "usage: $0 [--without-rules]" >&2; exit 2 ;;
esac
# The tests the shrunk "app" runs: the server flow, TLS through OkHttp, the
# key provider's callbacks, typed errors crossing the boundary.
TESTS=(ServerFlowTest OkHttpTransportTest KeysTest ErrorsTest)

KOTLIN="$PWD/bindings/kotlin"
out="$PWD/target/keep-rules"
rm -rf "$out" && mkdir -p "$out/rules"
# Clean first: a `bench` build of the suite (scripts/test.sh's Kotlin steps)
# leaves its classes behind, and they reference functions the shipped
# library (and so these bindings) does not have.
mvn -B -q -o --no-transfer-progress -f "$KOTLIN/pom.xml" clean test-compile
mvn -B -q -o --no-transfer-progress -f "$KOTLIN/pom.xml" dependency:build-classpath \
  -Dmdep.includeScope=test -Dmdep.outputFile="$out/test.cp" >/dev/null
mvn -B -q -o --no-transfer-progress -f "$KOTLIN/keep-rules/pom.xml" dependency:build-classpath \
  -Dmdep.outputFile="$out/tools.cp" >/dev/null
console=$(tr ':' '\n' <"$out/tools.cp" | grep junit-platform-console-standalone)
proguard=$(tr ':' '\n' <"$out/tools.cp" | grep -v junit-platform-console-standalone | paste -sd:)

# R8 also applies the rules libraries carry inside their jars
# (META-INF/proguard/); so does this check.
{
  echo "-injars $KOTLIN/target/classes"
  echo "-injars $KOTLIN/target/test-classes"
  for jar in $(tr ':' '\n' <"$out/test.cp"); do
    case "$jar" in
      */junit-*|*/opentest4j/*|*/apiguardian/*)
        ;; # JUnit is the launcher's: left as it is (the console jar below)
      *)
        echo "-injars $jar(!META-INF/versions/**,!module-info.class,!META-INF/MANIFEST.MF,!META-INF/*.kotlin_module,!META-INF/LICENSE*,!META-INF/NOTICE*)"
        n=$(basename "$jar" .jar)
        if unzip -qo "$jar" 'META-INF/proguard/*' -d "$out/rules/$n" 2>/dev/null; then
          for pro in "$out/rules/$n"/META-INF/proguard/*; do echo "-include $pro"; done
        fi
        ;;
    esac
  done
  echo "-libraryjars $console(!org/junit/jupiter/api/AssertionsKt*)"
  for mod in java.base java.logging java.net.http java.management java.naming java.desktop; do
    echo "-libraryjars <java.home>/jmods/$mod.jmod(!**.jar;!module-info.class)"
  done
  echo "-outjars $out/app.jar"
  echo "-include $KOTLIN/keep-rules/check.pro"
  [ -z "$rules" ] || echo "-include $PWD/$rules"
  echo "-printmapping $out/mapping.txt"
} >"$out/proguard.pro"

java -cp "$proguard" proguard.ProGuard @"$out/proguard.pro" >"$out/proguard.log" 2>&1 \
  || { tail -40 "$out/proguard.log" >&2; echo "keep rules: ProGuard failed ($out/proguard.log)" >&2; exit 1; }
echo "keep rules: $(du -k "$out/app.jar" | cut -f1) KiB shrunk jar (rules: ${rules:-none})"

selectors=()
for t in "${TESTS[@]}"; do selectors+=(--select-class "dev.punchcore.$t"); done
java -Djna.library.path="$PWD/target/debug" -Dpunch.server.bin="$PWD/target/debug/punch-server" \
  -jar "$console" execute --class-path "$out/app.jar" --disable-banner --details=summary \
  --fail-if-no-tests "${selectors[@]}"
