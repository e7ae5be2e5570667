#!/usr/bin/env bash
# Installs what scripts/test.sh needs and a fresh machine may lack; idempotent
# and fast when everything is there, loud when an install fails (nothing is
# skipped silently). .ci/run and scripts/test.sh both call it.
#   Debian: PostgreSQL (the server suites' second back end), a JDK and Maven
#           (the Kotlin bindings; Maven fetches its own artifacts), ARM64
#           cross gcc and qemu-user (the core's tests on the phones' ISA),
#           chromium, nodejs and npm (the reviewer page's browser test),
#           sqlite3 (the Kotlin chain-reset test edits a phone database)
#   Rust:   rustfmt, clippy, the aarch64 target, the MSRV toolchain
#   Python: the contract suite's schemathesis and cryptography
#   npm:    playwright-core for the reviewer page's test in headless Chromium
#   Maven:  the Kotlin tests', the keep-rules check's (ProGuard) and the Android
#           compile check's artifacts, fetched
#           ahead (test.sh runs this beside its first compile)
#   scripts/setup.sh             everything below
#   scripts/setup.sh rust        only rustfmt and clippy (seconds; test.sh's first step)
#   scripts/setup.sh toolchains  only the MSRV toolchain and the cross targets
#                                (test.sh, beside its lints: its builds need them)
#   scripts/setup.sh system      all but the Rust parts (test.sh, in the background)
#   scripts/setup.sh fuzz        also the nightly toolchain and cargo-fuzz (scripts/fuzz.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/msrv.sh

rust_components() {
  local installed c
  installed=$(rustup component list --installed)
  for c in rustfmt clippy; do
    grep -q "^$c" <<<"$installed" || rustup component add "$c"
  done
}
# The ARM64 standard library, the Android target (its native check needs no
# NDK), the minimum supported toolchain (CI builds its tests with it).
toolchains() {
  rustup target list --installed | grep -qx aarch64-unknown-linux-gnu \
    || rustup target add aarch64-unknown-linux-gnu
  rustup target list --installed | grep -qx aarch64-linux-android \
    || rustup target add aarch64-linux-android
  rustup toolchain list | grep -q "^$MSRV" || rustup toolchain install "$MSRV" --profile minimal
}
case "${1:-}" in
  rust) rust_components; exit 0 ;;
  toolchains) toolchains; exit 0 ;;
  system | fuzz | "") ;;
  *) echo "usage: $0 [rust|toolchains|system|fuzz]" >&2; exit 2 ;;
esac

# --- Debian packages, keyed by what proves they are present (one apt run)
missing=()
{ ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && command -v pg_dump >/dev/null; } \
  || missing+=(postgresql)
command -v javac >/dev/null 2>&1 || missing+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null 2>&1 || missing+=(maven)
command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 || missing+=(gcc-aarch64-linux-gnu)
[ -f /usr/aarch64-linux-gnu/include/stdio.h ] || missing+=(libc6-dev-arm64-cross)
command -v qemu-aarch64 >/dev/null 2>&1 || missing+=(qemu-user)
# The reviewer page's browser test (server/tests/web_e2e.rs): Chromium and Node.
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
# The Kotlin chain-reset test edits the phone's database file with it.
command -v sqlite3 >/dev/null 2>&1 || missing+=(sqlite3)
# The Swift package's release script test zips and lists a stand-in framework.
command -v zip >/dev/null 2>&1 || missing+=(zip)
command -v unzip >/dev/null 2>&1 || missing+=(unzip)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: run as root, or: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi

# --- Rust: components, targets, toolchains (test.sh runs these apart)
if [ "${1:-}" != "system" ]; then
  rust_components
  toolchains
fi

# --- contract suite (scripts/contract.sh): schemathesis + cryptography for the signing hook
SCHEMATHESIS_VERSION=4.32.5
CRYPTOGRAPHY_VERSION=48.0.0
if ! python3 - "$SCHEMATHESIS_VERSION" "$CRYPTOGRAPHY_VERSION" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
sys.exit(0 if (version("schemathesis"), version("cryptography")) == tuple(sys.argv[1:3]) else 1)
PY
then
  echo "setup: installing schemathesis $SCHEMATHESIS_VERSION, cryptography $CRYPTOGRAPHY_VERSION"
  python3 -m pip install --quiet --disable-pip-version-check \
    "schemathesis==$SCHEMATHESIS_VERSION" "cryptography==$CRYPTOGRAPHY_VERSION"
fi
command -v schemathesis >/dev/null || { echo "setup: schemathesis is not on PATH" >&2; exit 1; }

# --- the reviewer page's browser test: playwright-core from npm, pinned by its lock file
# (it drives Debian's chromium; `npx playwright install` cannot download browsers here)
if [ ! -f server/web-tests/node_modules/playwright-core/package.json ]; then
  echo "setup: installing playwright-core for server/web-tests"
  npm ci --prefix server/web-tests --no-audit --no-fund
fi

# --- Maven artifacts (plugins and dependencies) for the Kotlin tests and the
# Android compile check, so those steps do not wait on downloads
for pom in bindings/kotlin/pom.xml bindings/kotlin/keep-rules/pom.xml android-demo/compile-check/pom.xml; do
  mvn -B -q --no-transfer-progress -f "$pom" dependency:go-offline >/dev/null \
    || { echo "setup: fetching the Maven artifacts of $pom failed" >&2; exit 1; }
done
# Robolectric's instrumented android-all (SDK 30, 34, 36) and androidx.test's
# monitor, copied by the SDK's build (fetched here, online, so its tests run
# offline). Running them needs a Java 21+ JDK too (scripts/test-android-sdk.sh
# finds the machine's Temurin; Debian's default here is 17).
mvn -B -q --no-transfer-progress -f android-sdk/pom.xml dependency:go-offline process-test-resources >/dev/null \
  || { echo "setup: fetching the Android SDK's Robolectric artifacts failed" >&2; exit 1; }

# --- fuzzing (scripts/fuzz.sh, scripts/fuzz-attest.sh): nightly + cargo-fuzz, on request only
if [ "${1:-}" = "fuzz" ]; then
  if ! rustup toolchain list | grep -q '^nightly'; then
    rustup toolchain install nightly --profile minimal
  fi
  if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install --locked cargo-fuzz
  fi
fi
