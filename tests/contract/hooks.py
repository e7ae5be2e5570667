"""Schemathesis hooks for the punch server's contract suite.

Every device-authenticated request is signed like the engine signs it
(punch_model::wire::request_signing_string), with its head statement:

    PUNCH-REQUEST-V2\n{METHOD}\n{PATH}\n{hex sha256(body)}\n{timestamp_ms}\n{nonce}\n{seq}:{hash}

(x-punch-head: our devices never get a record accepted, so their head stays
0 and the genesis hash; a generated head would be signed as stated, and a
later true one then looks like a rollback).

with an ECDSA P-256 / SHA-256 key (DER signature, base64 in
x-punch-signature). The device is enrolled on import with the code the Rust
helper (`punch-contract`) printed; generated enrollments get a fresh key
each, one of the helper's one-time codes, and are signed by that key (proof
of possession), so they reach the real binding path.

Environment: PUNCH_CONTRACT (the helper's JSON line), PUNCH_CONTRACT_SIGN
(1: sign — positive mode; 0: send what schemathesis generated — negative
mode, where auth itself is under test).
"""

import atexit
import base64
import hashlib
import json
import os
import secrets
import time
import urllib.request
import uuid

import requests
import schemathesis
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

SETUP = json.loads(os.environ["PUNCH_CONTRACT"])
SIGN = os.environ.get("PUNCH_CONTRACT_SIGN", "1") == "1"
CODES = list(SETUP["codes"])


def spki(key):
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


GENESIS_HEAD = "0:" + "0" * 64


def signing_string(method, path, body, timestamp_ms, nonce, head):
    digest = hashlib.sha256(body or b"").hexdigest()
    common = f"{method.upper()}\n{path}\n{digest}\n{timestamp_ms}\n{nonce}"
    if head is None:
        return f"PUNCH-REQUEST-V1\n{common}".encode()
    return f"PUNCH-REQUEST-V2\n{common}\n{head}".encode()


def signed_headers(key, device_id, method, path, body, head=GENESIS_HEAD):
    ts = int(time.time() * 1000)
    nonce = secrets.token_hex(16)
    sig = key.sign(signing_string(method, path, body, ts, nonce, head), ec.ECDSA(hashes.SHA256()))
    headers = {
        "x-punch-device": device_id,
        "x-punch-timestamp": str(ts),
        "x-punch-nonce": nonce,
        "x-punch-signature": base64.b64encode(sig).decode(),
    }
    if head is not None:
        headers["x-punch-head"] = head
    return headers


class PunchAuth(requests.auth.AuthBase):
    """Signs the prepared request: the exact bytes that go on the wire."""

    def __init__(self, key, device_id):
        self.key, self.device_id = key, device_id

    def __call__(self, r):
        body = r.body or b""
        if isinstance(body, str):
            body = body.encode()
        path = requests.utils.urlparse(r.url).path
        r.headers.update(signed_headers(self.key, self.device_id, r.method, path, body))
        return r


def enroll(code):
    """Enrolls a fresh software key; returns (key, device_id)."""
    key = ec.generate_private_key(ec.SECP256R1())
    device_id = str(uuid.uuid4())
    body = json.dumps(
        {
            "code": code,
            "device_id": device_id,
            "public_key": base64.b64encode(spki(key)).decode(),
            "key_storage": "software",
            "platform": "contract-test",
        }
    ).encode()
    req = urllib.request.Request(
        SETUP["base_url"] + "/v1/enroll",
        data=body,
        method="POST",
        headers={"content-type": "application/json", **signed_headers(key, device_id, "POST", "/v1/enroll", body)},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        answer = json.load(resp)
    assert answer["device_id"] == device_id, answer
    return key, device_id


# Negative mode sends what was generated: it needs no device of its own.
DEVICE_KEY, DEVICE_ID = enroll(SETUP["device_code"]) if SIGN else (None, None)


def totp(secret_b32, now=None):
    """RFC 6238: SHA-1, 6 digits, 30 s steps."""
    import hmac
    import struct

    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    step = int((now or time.time()) // 30)
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    code = (struct.unpack(">I", mac[off : off + 4])[0] & 0x7FFFFFFF) % 1_000_000
    return f"{code:06d}"


def staff_session():
    """Signs the helper's HR admin in; returns (cookie value, CSRF token)."""
    staff = SETUP["staff"]
    body = json.dumps(
        {"username": staff["username"], "password": staff["password"], "totp": totp(staff["totp_secret"])}
    ).encode()
    req = urllib.request.Request(
        SETUP["base_url"] + "/admin/v1/session",
        data=body,
        method="POST",
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        answer = json.load(resp)
        cookie = resp.headers["set-cookie"].split(";")[0].split("=", 1)[1]
    return cookie, answer["csrf_token"]


# Admin operations in positive mode run as that HR admin.
STAFF_COOKIE, STAFF_CSRF = staff_session() if SIGN else (None, None)

# Status codes per operation, written at exit for the script to check that
# the signed requests really got through (a broken hook would make the
# suite vacuous).
STATS = {}
STATS_FILE = os.environ.get("PUNCH_CONTRACT_STATS")


def _write_stats():
    if STATS_FILE:
        with open(STATS_FILE, "w") as f:
            json.dump(STATS, f, indent=1, sort_keys=True)


atexit.register(_write_stats)


@schemathesis.hook
def after_call(context, case, response):
    key = f"{case.operation.method.upper()} {case.operation.path}"
    per = STATS.setdefault(key, {})
    per[str(response.status_code)] = per.get(str(response.status_code), 0) + 1


@schemathesis.hook
def before_call(context, case, kwargs):
    if not SIGN:
        return
    path = case.operation.path
    if path.startswith("/admin/"):
        # Signing out would end the suite's session; sign-in is tested as generated.
        if path not in ("/admin/v1/session/end",) and not (
            path == "/admin/v1/session" and case.method.upper() == "POST"
        ):
            case.headers = {
                **(case.headers or {}),
                "cookie": f"punch_session={STAFF_COOKIE}",
                "x-csrf-token": STAFF_CSRF,
            }
        return
    if path == "/v1/enroll/challenge":
        if isinstance(case.body, dict) and CODES and secrets.randbelow(2):
            case.body["code"] = CODES[-1]  # a real code: the issuing path too
        return
    if path == "/browser/v1/register/options":
        if isinstance(case.body, dict) and CODES and secrets.randbelow(2):
            # A real code: options are issued (only a registration spends it).
            case.body["code"] = CODES[-1]
        return
    if path == "/browser/v1/punch/options":
        if isinstance(case.body, dict) and secrets.randbelow(2):
            # A plausible time, so the request reaches the passkey lookup.
            case.body["client_time_ms"] = int(time.time() * 1000)
            case.body["utc_offset_min"] = 0
            case.body.pop("location", None)
        return
    if path.startswith("/browser/"):
        return  # unsigned: a passkey's assertion is the credential
    if path == "/v1/enroll":
        if isinstance(case.body, dict):
            key = ec.generate_private_key(ec.SECP256R1())
            device_id = str(uuid.uuid4())
            case.body["device_id"] = device_id
            case.body["public_key"] = base64.b64encode(spki(key)).decode()
            if CODES:
                case.body["code"] = CODES.pop()
            kwargs["auth"] = PunchAuth(key, device_id)
        return
    if path == "/v1/punches" and isinstance(case.body, dict):
        case.body["device_id"] = DEVICE_ID
    kwargs["auth"] = PunchAuth(DEVICE_KEY, DEVICE_ID)
