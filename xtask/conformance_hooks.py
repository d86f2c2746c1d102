"""schemathesis hooks for `cargo xtask conformance`: sign pledg's purchase
link as the SDK does (HS256 JWT over {"data": body}, `signature` query
parameter), so the fuzzer reaches the body validation behind the signature."""

import base64
import hashlib
import hmac
import json
import os
import time

import schemathesis


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _hs256(secret: str, claims: dict) -> str:
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    mac = hmac.new(secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(mac)}"


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    if case.operation.path != "/api/purchase_link/":
        return
    secret = os.environ.get("CONFORMANCE_PLEDG_SECRET_KEY", "")
    try:
        json.dumps(case.body)
    except (TypeError, ValueError):
        return  # no JSON body: stays unsigned (→ 401)
    now = int(time.time())
    if case.query is None:
        case.query = {}
    case.query["signature"] = _hs256(secret, {"data": case.body, "iat": now, "exp": now + 3600})
