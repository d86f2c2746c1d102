"""Run schemathesis (property-based API fuzzer) against a running sandbox,
one spec at a time, and print the counts `cargo xtask conformance` reports.

Usage: python conformance.py ROOT_URL PLAN_JSON REPORT_DIR MAX_EXAMPLES

PLAN_JSON is what `cargo xtask conformance` read from the specs
(`xtask/src/conformance_plan.rs`): one entry per spec, with where the
sandbox serves it, the headers its operations need, the operation that
logs in for a bearer token and the operations signed as the SDKs sign
them. No provider is named here.

Only the standard library here; schemathesis itself runs as a subprocess
(`python -m schemathesis.cli`) of the same interpreter (the venv). The
credentials come from the sandbox's control plane, tokens from its login
routes. The signed operations are signed by a schemathesis hook
(`conformance_hooks.py`) with the provider's signing secret from the
control plane (`GET /__sandbox/signing/{provider}`); each must get at least
one 2xx answer, which only a request past its signature check gets.
"""

import json
import os
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request

CHECKS = ",".join([
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
])

# Which failure counts as which figure of the report.
SERVER_ERRORS = {"not_a_server_error"}
FORBIDDEN_ACCEPTED = {"negative_data_rejection"}


def call(url, body=None, headers=None, form=False):
    data = None
    headers = dict(headers or {})
    if body is not None:
        if form:
            data = body.encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        else:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, headers=headers,
                                 method="POST" if data is not None else "GET")
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read() or b"null")


def key(name):
    """A credential's or a field's name without case or separators (as the plan writes it)."""
    return "".join(c.lower() for c in name if c.isascii() and c.isalnum())


def find_token(answer):
    """The token in a login's answer: the answer itself when it is a string, else
    the first value under a key named `token` or `access_token` (any case, any depth)."""
    if isinstance(answer, str):
        return answer
    if isinstance(answer, dict):
        for k, v in answer.items():
            if k.lower() in ("token", "access_token") and isinstance(v, str):
                return v
        for v in answer.values():
            found = find_token(v)
            if found:
                return found
    if isinstance(answer, list):
        for v in answer:
            found = find_token(v)
            if found:
                return found
    return None


def auth_headers(root, entry):
    """(base URL, headers) for one plan entry, with the sandbox's current credentials."""
    provider = entry["provider"]
    creds = call(f"{root}/__sandbox/credentials/{provider}")
    by_key = {key(k): v for k, v in creds.items()}
    url = root + entry["base"]
    token = None
    login = entry["login"]
    if login:
        missing = [k for _, k in login["fields"] if k not in by_key]
        if missing:
            raise SystemExit(f"{provider}: the sandbox's credentials have no {missing} for {login['path']}")
        body = {field: by_key[k] for field, k in login["fields"]}
        if login["form"]:
            body = urllib.parse.urlencode(body)
        token = find_token(call(url + login["path"], body, form=login["form"]))
        if not token:
            raise SystemExit(f"{provider}: no token in the answer of {login['path']}")
    headers = {}
    for h in entry["headers"]:
        if h["bearer"]:
            headers[h["name"]] = f"Bearer {token}"
        elif h["credential"] in by_key:
            headers[h["name"]] = str(by_key[h["credential"]])
        else:
            raise SystemExit(f"{provider}: the sandbox's credentials have no {h['credential']} for {h['name']}")
    return url, headers


def signing_env(root, entry):
    """`CONFORMANCE_SIGNING` for the hooks: the entry's signed operations and
    the provider's signing secret (None when it signs nothing)."""
    if not entry["signed"]:
        return None
    provider = entry["provider"]
    try:
        secret = call(f"{root}/__sandbox/signing/{provider}")["secret"]
    except urllib.error.HTTPError as e:
        raise SystemExit(f"{provider}: its spec signs requests, and the sandbox has no "
                         f"signing secret for it (HTTP {e.code})")
    return json.dumps({"secret": secret, "operations": entry["signed"]})


def signed_answers(report_path, signed):
    """{"METHOD path": {status: test cases}} of the signed operations' answers."""
    wanted = {f"{op['method'].upper()} {op['path']}" for op in signed}
    answers = {label: {} for label in sorted(wanted)}
    with open(report_path) as f:
        for line in f:
            try:
                recorder = json.loads(line)["ScenarioFinished"]["recorder"]
            except (json.JSONDecodeError, KeyError, TypeError):
                continue
            for case_id, case in (recorder.get("cases") or {}).items():
                value = case.get("value") or {}
                label = f"{str(value.get('method', '')).upper()} {value.get('path')}"
                response = ((recorder.get("interactions") or {}).get(case_id) or {}).get("response")
                if label in answers and isinstance(response, dict):
                    status = response.get("status_code")
                    answers[label][status] = answers[label].get(status, 0) + 1
    return answers


def count_failures(report_path):
    """(server errors, spec violations, forbidden accepted): failing test cases by check."""
    failing = set()
    with open(report_path) as f:
        for line in f:
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue
            failing.update(iter_failures(event, None))
    count = lambda names: sum(1 for (name, _) in failing if name in names)
    server = count(SERVER_ERRORS)
    accepted = count(FORBIDDEN_ACCEPTED)
    return server, len(failing) - server - accepted, accepted


def iter_failures(node, case_id):
    """(check name, test case id) of every failed check in an ndjson event."""
    if isinstance(node, dict):
        status = node.get("status")
        if node.get("name") and isinstance(status, str) and status.lower() == "failure":
            yield node["name"], case_id
        checks = node.get("checks")
        if isinstance(checks, dict):
            for cid, results in checks.items():
                yield from iter_failures(results, cid)
        for k, v in node.items():
            if k != "checks":
                yield from iter_failures(v, case_id)
    elif isinstance(node, list):
        for v in node:
            yield from iter_failures(v, case_id)


def main():
    root, plan_path, report_dir, max_examples = sys.argv[1:5]
    with open(plan_path) as f:
        plan = json.load(f)
    os.makedirs(report_dir, exist_ok=True)
    totals = [0, 0, 0]
    fuzzer_errors = 0
    signed_unreached = 0
    for entry in plan:
        provider = entry["provider"]
        url, headers = auth_headers(root, entry)
        env = dict(os.environ)
        env["SCHEMATHESIS_HOOKS"] = "conformance_hooks"
        env["PYTHONPATH"] = os.path.dirname(os.path.abspath(__file__))
        env.pop("CONFORMANCE_SIGNING", None)
        signing = signing_env(root, entry)
        if signing is not None:
            env["CONFORMANCE_SIGNING"] = signing
        report = os.path.join(report_dir, f"{provider}.ndjson")
        cmd = [sys.executable, "-m", "schemathesis.cli", "run",
               entry["spec"], "--url", url,
               "--checks", CHECKS, "--max-examples", max_examples, "--seed", "1",
               # One worker: CPython 3.11's AST is not thread-safe, and with more
               # workers the fuzzer itself occasionally crashes (not the sandbox).
               "--workers", "1", "--report", "ndjson", "--report-ndjson-path", report,
               "--warnings", "off", "--suppress-health-check", "all"]
        for k, v in headers.items():
            cmd += ["-H", f"{k}: {v}"]
        # A run that fails without any failed check is a fuzzer error: try once more.
        for attempt in (1, 2):
            if os.path.exists(report):
                os.remove(report)
            print(f"\n== {provider}: schemathesis against {url} (attempt {attempt})", flush=True)
            proc = subprocess.run(cmd, env=env)
            server, violations, accepted = count_failures(report)
            if proc.returncode == 0 or server + violations + accepted > 0:
                break
        print(f"== {provider}: exit {proc.returncode}; server errors {server}, "
              f"spec violations {violations}, forbidden requests accepted {accepted}",
              flush=True)
        for label, statuses in signed_answers(report, entry["signed"]).items():
            past = sum(n for status, n in statuses.items() if 200 <= (status or 0) < 300)
            shown = ", ".join(f"{status}: {n}" for status, n in sorted(statuses.items(), key=str))
            print(f"== {provider}: signed {label}: {past} answer(s) 2xx past the signature "
                  f"({shown or 'no answers'})", flush=True)
            if past == 0:
                signed_unreached += 1
        totals[0] += server
        totals[1] += violations
        totals[2] += accepted
        if proc.returncode != 0 and server + violations + accepted == 0:
            fuzzer_errors += 1
    print(f"\nCONFORMANCE server_errors={totals[0]} spec_violations={totals[1]} "
          f"forbidden_accepted={totals[2]} fuzzer_errors={fuzzer_errors} "
          f"signed_unreached={signed_unreached}")
    sys.exit(0 if sum(totals) + fuzzer_errors + signed_unreached == 0 else 1)


if __name__ == "__main__":
    main()
