#!/usr/bin/env bash
# Runs test binaries by path, several at once (scripts/test.sh). The suites
# mostly wait on sockets, disks and child processes (the server's suite uses
# about a third of a core over its run), so on 2 cores side by side they
# finish in little more than the longest one's time.
#   run-tests.sh BUILD.json          every test binary of a `cargo test
#                                    --no-run --message-format=json` build:
#                                    the two integration suites of the server
#                                    and the end-to-end tests each in a lane
#                                    of their own, every other binary in turn
#                                    in a third
#   run-tests.sh --only SPEC...      each SPEC "DIR|EXECUTABLE|ARGS" in a lane
#                                    of its own (ARGS split on spaces)
# Each binary runs in its package's directory, as `cargo test` runs it. Each
# lane's output is printed whole when all have ended (never interleaved);
# the exit status is non-zero when any test binary failed.
set -euo pipefail
cd "$(dirname "$0")/../.."

logs=target/steps/tests
rm -rf "$logs"
mkdir -p "$logs"

lanes=()
if [ "${1:-}" = "--only" ]; then
  shift
  lanes=("$@")
elif [ $# -eq 1 ]; then
  rest=""
  while IFS=$'\t' read -r dir exe name; do
    case "$name" in
      punch-server/integration | punch-tests/integration) lanes+=("$dir|$exe|") ;;
      *) rest+="${rest:+;}$dir|$exe|" ;;
    esac
  done < <(python3 scripts/lib/test_bins.py "$1" --all)
  [ -z "$rest" ] || lanes+=("$rest")
else
  echo "usage: $0 BUILD.json | --only DIR|EXE|ARGS..." >&2
  exit 2
fi

# A lane: one or more "DIR|EXE|ARGS" separated by ';', run in turn.
run_lane() {
  local lane=$1 spec dir exe args status=0
  local IFS=';'
  for spec in $lane; do
    IFS='|' read -r dir exe args <<<"$spec"
    echo "== $exe ${args}"
    # shellcheck disable=SC2086 # ARGS are words
    (cd "$dir" && IFS=' ' && "$exe" $args) || status=1
  done
  return "$status"
}

pids=()
for i in "${!lanes[@]}"; do
  run_lane "${lanes[$i]}" >"$logs/lane-$i.log" 2>&1 &
  pids+=($!)
done
failed=0
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || failed=1
  cat "$logs/lane-$i.log"
done
[ "$failed" -eq 0 ] || { echo "run-tests: a test binary failed (logs: $logs)" >&2; exit 1; }
