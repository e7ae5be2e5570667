#!/usr/bin/env bash
# Installs what scripts/test.sh needs and a fresh machine may lack: Rust
# components and the MSRV toolchain, the ARM64 target, Debian's ARM64 cross
# gcc and qemu-user, a JDK and Maven (Maven fetches its own artifacts).
# Idempotent and fast when everything is there; any failed install fails.
set -euo pipefail

# Debian packages, keyed by what proves they are present.
missing=()
command -v javac >/dev/null 2>&1 || missing+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null 2>&1 || missing+=(maven)
command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 || missing+=(gcc-aarch64-linux-gnu)
[ -f /usr/aarch64-linux-gnu/include/stdio.h ] || missing+=(libc6-dev-arm64-cross)
command -v qemu-aarch64 >/dev/null 2>&1 || missing+=(qemu-user)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi

# Rust: components, the ARM64 standard library, the minimum supported toolchain.
installed_components=$(rustup component list --installed)
for c in rustfmt clippy; do
  grep -q "^$c" <<<"$installed_components" || rustup component add "$c"
done
rustup target list --installed | grep -qx aarch64-unknown-linux-gnu \
  || rustup target add aarch64-unknown-linux-gnu
rustup toolchain list | grep -q '^1\.89' || rustup toolchain install 1.89 --profile minimal
