#!/usr/bin/env bash
# Contract suite: schemathesis against server/openapi.json and the live
# server on 127.0.0.1 (tests/src/bin/punch-contract.rs), failing on any 5xx
# or schema violation. Two bounded runs:
#   positive: valid requests, every device request signed by an enrolled key
#             (tests/contract/hooks.py), enrollments with real one-time codes;
#   negative: schema-violating requests sent as generated (unsigned): each
#             must be refused with a documented answer.
#   scripts/contract.sh [max-examples-per-operation]   (default 40)
# Needs schemathesis (scripts/setup.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/.."
examples="${1:-40}"
seed="${PUNCH_CONTRACT_SEED:-$(( RANDOM * 32768 + RANDOM ))}"
# scripts/test.sh has built everything already (PUNCH_PREBUILT=1).
[ -n "${PUNCH_PREBUILT:-}" ] || cargo build --locked -q -p punch-tests --bin punch-contract
tmp="$(mktemp -d)"
pid=""
cleanup() {
  exec 3>&- 2>/dev/null || true
  if [ -n "$pid" ]; then wait "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
mkfifo "$tmp/stdin"
target/debug/punch-contract --db "$tmp/server.db" < "$tmp/stdin" > "$tmp/setup.json" &
pid=$!
exec 3>"$tmp/stdin"   # the helper serves until this closes
for _ in $(seq 1 100); do
  [ -s "$tmp/setup.json" ] && break
  sleep 0.1
done
[ -s "$tmp/setup.json" ] || { echo "contract: server helper did not start" >&2; exit 1; }
export PUNCH_CONTRACT="$(head -n1 "$tmp/setup.json")"
base="$(python3 -c 'import json,os; print(json.loads(os.environ["PUNCH_CONTRACT"])["base_url"])')"
export PYTHONPATH="$PWD/tests/contract${PYTHONPATH:+:$PYTHONPATH}"
export SCHEMATHESIS_HOOKS=hooks
echo "contract: server $base, seed $seed, $examples examples per operation and mode"

# The checks: no 5xx, documented status codes, content types, headers and bodies.
checks="not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance"
common=(server/openapi.json --url "$base" --max-examples "$examples" --seed "$seed"
        --workers 1 --request-timeout 10 --no-color --generation-database none
        --suppress-health-check all --report junit --report-dir "$tmp/report")

echo "== positive (signed)"
PUNCH_CONTRACT_STATS="$tmp/positive.json" PUNCH_CONTRACT_SIGN=1 schemathesis run "${common[@]}" --mode positive \
  --phases examples,coverage,fuzzing --checks "$checks"
# The signing hook must really get requests through: each operation saw a 2xx.
python3 - "$tmp/positive.json" <<'PY'
import json, sys
stats = json.load(open(sys.argv[1]))
print("positive answers by operation:", json.dumps(stats, sort_keys=True))
for op in ("POST /v1/enroll", "POST /v1/enroll/challenge", "GET /v1/time", "GET /v1/policy", "POST /v1/punches",
           "GET /admin/v1/session", "GET /admin/v1/punches", "GET /admin/v1/employees", "GET /admin/v1/audit/verify",
           "POST /browser/v1/register/options"):
    ok = sum(n for code, n in stats.get(op, {}).items() if code.startswith("2"))
    if ok == 0:
        sys.exit(f"contract: no signed {op} succeeded: the hook is broken")
PY
echo "== negative (as generated)"
PUNCH_CONTRACT_STATS="$tmp/negative.json" PUNCH_CONTRACT_SIGN=0 schemathesis run "${common[@]}" --mode negative \
  --phases coverage,fuzzing --checks "$checks,negative_data_rejection"
python3 -c 'import json,sys; print("negative answers by operation:", json.dumps(json.load(open(sys.argv[1])), sort_keys=True))' "$tmp/negative.json"
echo "contract: 2 passed, 0 failed"
