"""schemathesis hooks for `cargo xtask conformance`: sign as the SDKs do, so
the fuzzer reaches the body validation behind the signatures: pledg's
purchase link (HS256 JWT over {"data": body}, `signature` query parameter)
and exirom's APM payment (`checksum` = Base64 HMAC-SHA256 over
accountId|amount|currency|requestId)."""

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


def _part(value):
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _checksum_apm(case):
    body = case.body
    if not isinstance(body, dict):
        return
    parts = [_part(body.get(k)) for k in ("accountId", "amount", "currency", "requestId")]
    if any(p is None for p in parts):
        return  # nothing to checksum: the request stays as generated
    secret = os.environ.get("CONFORMANCE_EXIROM_SECRET", "")
    mac = hmac.new(secret.encode(), "|".join(parts).encode(), hashlib.sha256).digest()
    body["checksum"] = base64.b64encode(mac).decode()


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    if case.operation.path == "/v1/payments/apm":
        _checksum_apm(case)
        return
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
