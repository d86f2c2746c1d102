//! Control plane under `/__sandbox/` (no provider path starts with it): the same operations as
//! the Rust [`crate::Sandbox`] handle, for tests written in other languages or by hand.
//!
//! | request | body | effect |
//! | --- | --- | --- |
//! | `GET /__sandbox/health` | | `{"ok": true}` |
//! | `GET /__sandbox/clock` | | `{"now", "offset_ms"}` |
//! | `POST /__sandbox/clock/advance` | `{"seconds": N}` or `{"ms": N}` | moves sandbox time forward |
//! | `POST /__sandbox/revoke` | `{"token": "..."}` | revokes a token (or an API key) |
//! | `POST /__sandbox/revoke_all/{provider}` | | revokes every token of the provider |
//! | `POST /__sandbox/rotate/{provider}` | | new credentials (answered), old ones stop working |
//! | `GET /__sandbox/credentials[/{provider}]` | | current working credentials |
//! | `GET /__sandbox/signing` | | the providers' signing material (e.g. pledg's merchant secret key and uid) |
//! | `GET /__sandbox/signing/{provider}` | | `{"provider", "secret"}`: the secret its signed requests are signed with; 404 when it signs none |
//! | `POST /__sandbox/variant` | `{"variant": "exirom_object"}` | response-shape variant |
//! | `POST /__sandbox/fault/{provider}/{route}` | a JSON [`crate::Fault`] | queues one fault |
//! | `POST /__sandbox/fault_mix/{provider}/{route}` | a JSON [`crate::FaultMix`] | random faults at a rate |
//! | `POST /__sandbox/faults/clear` | | drops every queued fault and fault mix |
//! | `GET /__sandbox/counters` | | a JSON [`crate::Counters`] |
//! | `POST /__sandbox/counters/reset` | | zeroes the counters |
//! | `GET /__sandbox/callbacks` | | the latest event of each recent callback (a JSON [`crate::CallbackEvent`] list) |
//! | `POST /__sandbox/settle/{provider}/{id}` | `{"status": "APPROVED"}` | moves an object to a status and sends its callback |

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};

use crate::error::SandboxError;
use crate::faults::{Fault, FaultMix};
use crate::provider::Provider;
use crate::route::Route;
use crate::state::Inner;
use crate::variant::Variant;

type AppState = Arc<Inner>;

fn reply(status: StatusCode, v: Value) -> Response {
    let mut r = Response::new(Body::from(v.to_string()));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

fn bad(msg: impl std::fmt::Display) -> Response {
    reply(StatusCode::BAD_REQUEST, json!({"error": msg.to_string()}))
}

fn clock(st: &AppState) -> Value {
    json!({
        "now": st.now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "offset_ms": st.clock().offset_ms(),
    })
}

pub(crate) async fn handle(st: AppState, req: Request) -> Response {
    let method = req.method().clone();
    let path = req
        .uri()
        .path()
        .trim_start_matches("/__sandbox")
        .trim_matches('/')
        .to_owned();
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let body = match axum::body::to_bytes(req.into_body(), 1024 * 1024).await {
        Ok(b) => b,
        Err(e) => return bad(format!("unreadable body: {e}")),
    };
    let json_body = || -> Result<Value, String> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(json!({}));
        }
        serde_json::from_slice(&body).map_err(|e| format!("body is not JSON: {e}"))
    };
    let provider = |s: &str| s.parse::<Provider>();
    match (&method, segs.as_slice()) {
        (&Method::GET, ["health"]) => reply(StatusCode::OK, json!({"ok": true})),
        (&Method::GET, ["clock"]) => reply(StatusCode::OK, clock(&st)),
        (&Method::POST, ["clock", "advance"]) => {
            let v = match json_body() {
                Ok(v) => v,
                Err(e) => return bad(e),
            };
            let d = if let Some(s) = v.get("seconds").and_then(Value::as_f64) {
                Duration::try_from_secs_f64(s).ok()
            } else {
                v.get("ms")
                    .and_then(Value::as_u64)
                    .map(Duration::from_millis)
            };
            match d {
                Some(d) => {
                    st.advance_clock(d);
                    reply(StatusCode::OK, clock(&st))
                }
                None => bad("expected {\"seconds\": N} (N >= 0) or {\"ms\": N}"),
            }
        }
        (&Method::POST, ["revoke"]) => {
            let v = match json_body() {
                Ok(v) => v,
                Err(e) => return bad(e),
            };
            match v.get("token").and_then(Value::as_str) {
                Some(t) if !t.trim().is_empty() => {
                    st.revoke(t);
                    reply(StatusCode::OK, json!({"revoked": true}))
                }
                _ => bad("expected {\"token\": \"...\"}"),
            }
        }
        (&Method::POST, [op, p]) if *op == "revoke_all" || *op == "revoke-all" => {
            match provider(p) {
                Ok(p) => {
                    st.revoke_all(p);
                    reply(StatusCode::OK, json!({"revoked_all": p}))
                }
                Err(e) => bad(e),
            }
        }
        (&Method::POST, ["rotate", p]) => match provider(p) {
            Ok(p) => reply(
                StatusCode::OK,
                serde_json::to_value(st.rotate(p)).unwrap_or_default(),
            ),
            Err(e) => bad(e),
        },
        (&Method::GET, ["credentials"]) => {
            let all: Vec<Value> = Provider::all()
                .map(|p| serde_json::to_value(st.credentials(p)).unwrap_or_default())
                .collect();
            reply(StatusCode::OK, Value::Array(all))
        }
        (&Method::GET, ["signing"]) => {
            let mut all = serde_json::Map::new();
            for plugin in Provider::all().filter_map(Provider::plugin) {
                for (k, v) in plugin.signing_material(&st) {
                    all.insert(k.to_owned(), v);
                }
            }
            reply(StatusCode::OK, Value::Object(all))
        }
        (&Method::GET, ["signing", p]) => match provider(p) {
            Ok(p) => match p.signing_secret(&st) {
                Some(secret) => reply(StatusCode::OK, json!({"provider": p, "secret": secret})),
                None => reply(
                    StatusCode::NOT_FOUND,
                    json!({"error": format!("{p} signs no request")}),
                ),
            },
            Err(e) => bad(e),
        },
        (&Method::GET, ["credentials", p]) => match provider(p) {
            Ok(p) => reply(
                StatusCode::OK,
                serde_json::to_value(st.credentials(p)).unwrap_or_default(),
            ),
            Err(e) => bad(e),
        },
        (&Method::POST, ["variant"]) => {
            let v = match json_body() {
                Ok(v) => v,
                Err(e) => return bad(e),
            };
            match v
                .get("variant")
                .and_then(Value::as_str)
                .map(str::parse::<Variant>)
            {
                Some(Ok(variant)) => {
                    st.set_variant(variant);
                    reply(StatusCode::OK, json!({"variant": variant}))
                }
                Some(Err(e)) => bad(e),
                None => bad("expected {\"variant\": \"<variant name>\"}"),
            }
        }
        (&Method::POST, ["fault", p, r]) => {
            let p = match provider(p) {
                Ok(p) => p,
                Err(e) => return bad(e),
            };
            let r = match r.parse::<Route>() {
                Ok(r) => r,
                Err(e) => return bad(e),
            };
            let v = match json_body() {
                Ok(v) => v,
                Err(e) => return bad(e),
            };
            let fault: Fault = match serde_json::from_value(v) {
                Ok(f) => f,
                Err(e) => return bad(format!("invalid fault: {e}")),
            };
            match st.inject(p, r, fault.clone()) {
                Ok(()) => reply(
                    StatusCode::OK,
                    json!({"queued": fault, "provider": p, "route": r}),
                ),
                Err(e) => reply(StatusCode::NOT_FOUND, json!({"error": e.to_string()})),
            }
        }
        (&Method::POST, ["fault_mix", p, r]) => {
            let (p, r) = match (provider(p), r.parse::<Route>()) {
                (Ok(p), Ok(r)) => (p, r),
                (Err(e), _) | (_, Err(e)) => return bad(e),
            };
            let mix: FaultMix = match json_body().and_then(|v| {
                serde_json::from_value(v).map_err(|e| format!("invalid fault mix: {e}"))
            }) {
                Ok(m) => m,
                Err(e) => return bad(e),
            };
            match st.set_fault_mix(p, r, mix.clone()) {
                Ok(()) => reply(
                    StatusCode::OK,
                    json!({"fault_mix": mix, "provider": p, "route": r}),
                ),
                Err(e @ SandboxError::RouteNotOffered { .. }) => {
                    reply(StatusCode::NOT_FOUND, json!({"error": e.to_string()}))
                }
                Err(e) => bad(e),
            }
        }
        (&Method::POST, ["faults", "clear"]) => {
            st.clear_faults();
            reply(StatusCode::OK, json!({"cleared": true}))
        }
        (&Method::GET, ["counters"]) => reply(
            StatusCode::OK,
            serde_json::to_value(st.counters()).unwrap_or_default(),
        ),
        (&Method::GET, ["callbacks"]) => reply(
            StatusCode::OK,
            serde_json::to_value(st.recent_callbacks()).unwrap_or_default(),
        ),
        (&Method::POST, ["settle", p, id]) => {
            let p = match provider(p) {
                Ok(p) => p,
                Err(e) => return bad(e),
            };
            let status = match json_body() {
                Ok(v) => v.get("status").and_then(Value::as_str).map(str::to_owned),
                Err(e) => return bad(e),
            };
            let Some(status) = status else {
                return bad("expected {\"status\": \"...\"}");
            };
            match p.settle(&st, id, &status) {
                Ok(()) => reply(
                    StatusCode::OK,
                    json!({"provider": p, "id": id, "status": status}),
                ),
                Err(e @ SandboxError::UnknownObject { .. }) => {
                    reply(StatusCode::NOT_FOUND, json!({"error": e.to_string()}))
                }
                Err(e) => bad(e),
            }
        }
        (&Method::POST, ["counters", "reset"]) => {
            st.reset_counters();
            reply(StatusCode::OK, json!({"reset": true}))
        }
        _ => reply(
            StatusCode::NOT_FOUND,
            json!({"error": format!("no control operation {method} /__sandbox/{path}")}),
        ),
    }
}
