#!/usr/bin/env bash
# cargo on the minimum supported Rust version (scripts/lib/msrv.sh), linking
# with that toolchain's own rust-lld where it ships one: Rust 1.90+ links
# with it by default on x86_64 Linux, 1.89 still calls GNU ld, several times
# slower on the workspace's large debug test binaries.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/msrv.sh
host=$(rustc "+$MSRV" -vV | sed -n 's/^host: //p')
lld_dir="$(rustc "+$MSRV" --print sysroot)/lib/rustlib/$host/bin/gcc-ld"
if [ "$host" = x86_64-unknown-linux-gnu ] && [ -x "$lld_dir/ld.lld" ]; then
  export CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS="-C link-arg=-fuse-ld=lld -C link-arg=-B$lld_dir"
fi
exec cargo "+$MSRV" "$@"
