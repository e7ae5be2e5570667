#!/usr/bin/env bash
# Fuzz every decoder of outside data with cargo-fuzz (nightly), each target
# for a bounded time, seeded from real examples (a real server and device
# exchange, written by the punch-seeds binary). Prints executions per target;
# exit 1 on any crash (artifacts in fuzz/artifacts/<target>/).
#   scripts/fuzz.sh [seconds-per-target] [target...]     (default 60, all targets)
# The targets are punch_tests::decoders (tests/src/decoders.rs); CI runs the
# same entry points on stable with deterministic mutations
# (tests/tests/decoder_mutation.rs). punch-attest's parsers have their own
# targets: scripts/fuzz-attest.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-60}"
shift || true
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
  targets=(policy_json policy_bundle record_json upload_batch server_response client_answers retry_after enroll_request evidence)
fi
./scripts/setup.sh fuzz
cargo run --locked -q -p punch-tests --bin punch-seeds -- fuzz/corpus

cd fuzz
cargo +nightly fuzz build -O
summary=()
for target in "${targets[@]}"; do
  echo "== $target ($secs s)"
  log="$(mktemp)"
  status=0
  cargo +nightly fuzz run -O "$target" "corpus/$target" -- \
    -max_total_time="$secs" -max_len=65536 -rss_limit_mb=2048 -print_final_stats=1 \
    >"$log" 2>&1 || status=$?
  grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+ +DONE)|SUMMARY|panicked|ERROR" "$log" || true
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)"
  summary+=("$(printf '%-16s %12s execs  exit %s' "$target" "${execs:-?}" "$status")")
  if [ "$status" -ne 0 ]; then
    tail -n 40 "$log"
  fi
  rm -f "$log"
done
echo "== summary ($secs s per target)"
printf '%s\n' "${summary[@]}"
crashes="$(find artifacts -type f 2>/dev/null | wc -l)"
echo "crash artifacts: $crashes"
find artifacts -type f 2>/dev/null | head
[ "$crashes" -eq 0 ]
