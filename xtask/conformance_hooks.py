"""schemathesis hooks for `cargo xtask conformance`: sign as the SDKs do, so
the fuzzer reaches the body validation behind the signatures.

What to sign comes from the plan (`xtask/src/conformance_plan.rs`, read from
the specs' extensions), the secret from the sandbox: the driver puts both in
`CONFORMANCE_SIGNING` as `{"secret": ..., "operations": [{"method", "path",
"signing": {"kind", ...}}]}` for the spec it runs. Two kinds:

- `query_jwt` (a signed-JWT security scheme): a JWT with the claims
  `{<claim>: <the JSON body>, iat, exp: iat + lifetime_secs}`, sent as the
  query parameter `param`;
- `body_checksum` (a body-checksum extension): Base64(HMAC-SHA256(secret,
  the body's `parts` joined by `separator`)) written into the body's
  `field`.

A request that cannot be signed (no JSON body, a part missing or neither a
string nor an integer) is sent as generated: the sandbox refuses it."""

import base64
import hashlib
import hmac
import json
import os
import time

import schemathesis

# JWT algorithm → the HMAC's hash.
_JWT_HASHES = {"HS256": hashlib.sha256}


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _jwt(algorithm: str, secret: str, claims: dict) -> str:
    header = _b64(json.dumps({"alg": algorithm, "typ": "JWT"}, separators=(",", ":")).encode())
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    mac = hmac.new(secret.encode(), f"{header}.{payload}".encode(), _JWT_HASHES[algorithm]).digest()
    return f"{header}.{payload}.{_b64(mac)}"


def _query_jwt(secret, signing, case):
    try:
        json.dumps(case.body)
    except (TypeError, ValueError):
        return  # no JSON body: stays unsigned
    now = int(time.time())
    claims = {signing["claim"]: case.body, "iat": now, "exp": now + signing["lifetime_secs"]}
    if case.query is None:
        case.query = {}
    case.query[signing["param"]] = _jwt(signing["algorithm"], secret, claims)


def _part(value):
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _body_checksum(secret, signing, case):
    body = case.body
    if not isinstance(body, dict):
        return
    parts = [_part(body.get(k)) for k in signing["parts"]]
    if any(p is None for p in parts):
        return  # nothing to checksum: the request stays as generated
    mac = hmac.new(secret.encode(), signing["separator"].join(parts).encode(), hashlib.sha256).digest()
    body[signing["field"]] = base64.b64encode(mac).decode()


# Each kind's signer, in the order they apply to one request: what changes the
# body before what signs it.
_SIGNERS = {"body_checksum": _body_checksum, "query_jwt": _query_jwt}


def _load():
    """(secret, {(METHOD, path): [signing]}) from the driver; refuses what it cannot sign."""
    given = json.loads(os.environ.get("CONFORMANCE_SIGNING") or "null")
    if not given:
        return "", {}
    by_operation = {}
    for op in given["operations"]:
        signing = op["signing"]
        if signing["kind"] not in _SIGNERS:
            raise SystemExit(f"conformance hooks: no signer for {signing['kind']!r}")
        if signing["kind"] == "query_jwt" and signing["algorithm"] not in _JWT_HASHES:
            raise SystemExit(f"conformance hooks: no JWT algorithm {signing['algorithm']!r}")
        by_operation.setdefault((op["method"].upper(), op["path"]), []).append(signing)
    order = list(_SIGNERS)
    for signings in by_operation.values():
        signings.sort(key=lambda s: order.index(s["kind"]))
    return given["secret"], by_operation


_SECRET, _SIGNED = _load()


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    for signing in _SIGNED.get((case.operation.method.upper(), case.operation.path), ()):
        _SIGNERS[signing["kind"]](_SECRET, signing, case)
