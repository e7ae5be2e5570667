#!/usr/bin/env bash
# Crash harness, long run: the punch-and-sync loop in a child process is
# killed with SIGKILL at random moments (during punch and during sync) and
# restarted, then the server is killed mid-upload and restarted; prints the
# table (rounds, kills during punch/sync, acknowledged, lost, duplicated,
# chain failures). Exit 1 if anything acknowledged was lost or doubled.
#   scripts/crash.sh [device-rounds] [server-rounds] [seed]   (default 1000 100, seed from the clock)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-1000}"
server_rounds="${2:-$(( rounds / 10 ))}"
seed_args=()
if [ -n "${3:-}" ]; then seed_args=(--seed "$3"); fi
cargo build --release --locked -p punch-tests --bin punch-crash
exec target/release/punch-crash run --device-kills "$rounds" --server-kills "$server_rounds" "${seed_args[@]}"
