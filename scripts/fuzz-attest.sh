#!/usr/bin/env bash
# Fuzz punch-attest's parsers with cargo-fuzz (nightly), each target for a bounded time.
#   scripts/fuzz-attest.sh [seconds-per-target]     (default 60)
# Needs: rustup toolchain install nightly; cargo install cargo-fuzz.
# Seeds come from the real test data; crashes land in attest/fuzz/artifacts/<target>/.
set -euo pipefail
secs="${1:-60}"
here="$(cd "$(dirname "$0")/.." && pwd)"
fuzz="$here/attest/fuzz"
data="$here/attest/tests/data"

python3 - "$fuzz/corpus" "$data" <<'PY'
import base64, glob, os, re, struct, sys
corpus, data = sys.argv[1], sys.argv[2]
for t in ("android_chain", "android_pem", "key_description", "apple_object"):
    os.makedirs(os.path.join(corpus, t), exist_ok=True)
def put(t, name, b):
    open(os.path.join(corpus, t, name), "wb").write(b)
def der_of(pem):
    blocks = re.findall(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", pem, re.S)
    return [base64.b64decode("".join(b.split())) for b in blocks]
def ext(der, oid=bytes.fromhex("060a2b06010401d679020111")):
    # The OCTET STRING after the KeyDescription OID (skipping an optional critical flag).
    i = der.find(oid)
    if i < 0: return None
    j = i + len(oid)
    if der[j] == 0x01: j += 3
    assert der[j] == 0x04
    n = der[j + 1]; j += 2
    if n & 0x80:
        k = n & 0x7f; n = int.from_bytes(der[j:j + k], "big"); j += k
    return der[j:j + n]
for path in glob.glob(os.path.join(data, "android", "*.pem")):
    name = os.path.basename(path)[:-4]
    pem = open(path).read()
    put("android_pem", name, pem.encode())
    ders = der_of(pem)
    put("android_chain", name, b"".join(struct.pack(">H", len(d)) + d for d in ders))
    kd = ext(ders[0])
    if kd: put("key_description", name, kd)
b64 = "".join(open(os.path.join(data, "apple", "apple_sample_attestation.b64")).read().split())
put("apple_object", "apple_sample", base64.b64decode(b64))
PY

cd "$fuzz"
for target in android_chain android_pem key_description apple_object; do
  echo "== $target ($secs s)"
  cargo +nightly fuzz run "$target" "corpus/$target" -- \
    -max_total_time="$secs" -max_len=65536 -rss_limit_mb=2048 -print_final_stats=1 2>&1 \
    | grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+ +DONE)|SUMMARY|panicked|ERROR" || true
done
crashes="$(find artifacts -type f 2>/dev/null | wc -l)"
echo "crash artifacts: $crashes"
find artifacts -type f 2>/dev/null | head
[ "$crashes" -eq 0 ]
