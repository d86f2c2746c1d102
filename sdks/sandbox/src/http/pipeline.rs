//! The request pipeline: counters and faults around the providers' handlers, the router
//! built from the registry, and the rendering of a reply (with the wire-level faults).

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::any;
use bytes::Bytes;
use serde_json::json;

use crate::events::{RequestEvent, SandboxEvent};
use crate::faults::Fault;
use crate::http::control;
use crate::http::reply::{Reply, ReplyBody};
use crate::http::request::Ctx;
use crate::jwt::TokenMode;
use crate::plugin::{Endpoint, Plugin};
use crate::provider::Provider;
use crate::route::Route;
use crate::state::{Inner, inc};

type AppState = Arc<Inner>;

/// Marks a response that must not be sent: the connection is closed instead.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DropConnection;

#[derive(Debug)]
pub(crate) struct DroppedByFault;

impl std::fmt::Display for DroppedByFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by an injected sandbox fault")
    }
}

impl std::error::Error for DroppedByFault {}

const MALFORMED_BODY: &str = "<html><head><title>502 Bad Gateway</title></head><body>upstream \
                              error</body></html>\n{\"token\": \"eyJhbGciOi";

/// Where a request is going: the provider, its plug-in, the endpoint, and their places
/// in the registry (for the counters).
#[derive(Clone, Copy)]
struct Target {
    provider: Provider,
    plugin: &'static dyn Plugin,
    endpoint: &'static Endpoint,
    provider_index: usize,
    route_index: usize,
}

pub(crate) fn router(st: AppState) -> Router {
    let mut r: Router<AppState> = Router::new();
    for (provider_index, p) in Provider::all().enumerate() {
        let Some(plugin) = p.plugin() else { continue };
        for (route_index, endpoint) in plugin.endpoints().iter().enumerate() {
            let target = Target {
                provider: p,
                plugin,
                endpoint,
                provider_index,
                route_index,
            };
            let path = format!("{}{}", plugin.base_path(), endpoint.path);
            r = r.route(
                &path,
                any(move |State(st): State<AppState>, req: Request| handle(st, target, req)),
            );
        }
    }
    r.route(
        "/__sandbox/{*rest}",
        any(|State(st): State<AppState>, req: Request| control::handle(st, req)),
    )
    .fallback(|req: Request| async move { not_found(req) })
    .with_state(st)
}

fn not_found(req: Request) -> Response {
    let path = req.uri().path();
    let plugin = Provider::all()
        .filter_map(Provider::plugin)
        .find(|p| path == p.base_path() || path.starts_with(&format!("{}/", p.base_path())));
    match plugin {
        Some(p) => render(
            p.error(None, StatusCode::NOT_FOUND, "Not Found"),
            &Fault::default(),
        ),
        None => render(
            Reply::json(
                StatusCode::NOT_FOUND,
                json!({"error": "not_found", "message": format!("no sandbox route for {path}")}),
            ),
            &Fault::default(),
        ),
    }
}

/// The pipeline every provider request goes through, reported as one [`RequestEvent`].
async fn handle(st: AppState, t: Target, req: Request) -> Response {
    let method = req.method().to_string();
    // The path only: a query may carry a signed URL's signature (pledg).
    let path = req.uri().path().to_owned();
    let (response, status, decision) = answer(&st, t, req).await;
    st.emit(SandboxEvent::Request(RequestEvent {
        at: st.now(),
        method,
        path,
        provider: t.provider,
        route: t.endpoint.route,
        status,
        decision,
    }));
    response
}

/// The answer to one request, its status (`None`: connection dropped) and what was decided.
async fn answer(st: &AppState, t: Target, req: Request) -> (Response, Option<u16>, Option<String>) {
    let (p, r) = (t.provider, t.endpoint.route);
    let c = st.counter(t.provider_index, t.route_index);
    inc(&c.requests);
    let fault = st.take_fault(p, r);
    if fault.is_some() {
        inc(&c.faults_served);
    }
    let fault = fault.unwrap_or_default();
    if let Some(d) = fault.latency {
        tokio::time::sleep(d).await;
    }
    if fault.drop_connection {
        let mut resp = Response::new(Body::empty());
        resp.extensions_mut().insert(DropConnection);
        return (
            resp,
            None,
            Some("injected fault: connection dropped".into()),
        );
    }
    let reply = if let Some(status) = fault.status {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        let reason = status.canonical_reason().unwrap_or("Injected fault");
        t.plugin
            .error(Some(r), status, reason)
            .decided(format!("injected fault: HTTP {}", status.as_u16()))
    } else if fault.malformed_body {
        Reply::raw(StatusCode::OK, "application/json", MALFORMED_BODY)
            .decided("injected fault: malformed body")
    } else {
        let reply = match fault.respond_after {
            // Processed in its own task: it completes even when the client
            // times out and drops the connection during the delay.
            Some(delay) => {
                let (st2, fault2) = (st.clone(), fault.clone());
                let task = tokio::spawn(async move { process(&st2, t, req, &fault2).await });
                let reply = match task.await {
                    Ok(reply) => reply,
                    Err(_) => t.plugin.error(
                        Some(r),
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "Internal Server Error",
                    ),
                };
                tokio::time::sleep(delay).await;
                reply
            }
            None => process(st, t, req, &fault).await,
        };
        if reply.status.is_success() {
            inc(&c.successes);
            if let Some(id) = &reply.outcome.login_identity {
                inc(&c.logins);
                st.count_login_identity(p, id);
            }
            if reply.outcome.refreshed {
                inc(&c.refreshes);
            }
        }
        if reply.outcome.authenticated {
            inc(&c.authenticated_ok);
        }
        reply
    };
    match reply.status {
        StatusCode::UNAUTHORIZED => inc(&c.unauthorized_401),
        StatusCode::FORBIDDEN => inc(&c.forbidden_403),
        _ => {}
    }
    let decision = decision(&reply, r);
    let status = reply.status.as_u16();
    (render(reply, &fault), Some(status), decision)
}

/// What the handler decided; failing that, what its answer says.
fn decision(reply: &Reply, r: Route) -> Option<String> {
    if let Some(d) = &reply.outcome.decision {
        return Some(d.to_string());
    }
    if reply.status.is_success() {
        return if reply.outcome.login_identity.is_some() {
            Some("logged in".into())
        } else if reply.outcome.refreshed {
            Some("token refreshed".into())
        } else {
            None
        };
    }
    if r == Route::Login && reply.status == StatusCode::UNAUTHORIZED {
        return Some("credentials refused".into());
    }
    said(&reply.body)
}

/// The message of a JSON error answer (`message`, `error_description`, `error`), printable
/// and short. The sandbox wrote it; it may quote a request's value, never a secret of ours.
fn said(body: &ReplyBody) -> Option<String> {
    let ReplyBody::Json(v) = body else {
        return None;
    };
    let text = ["message", "error_description", "error"]
        .iter()
        .find_map(|k| v.get(*k).and_then(serde_json::Value::as_str))
        .or_else(|| {
            v.pointer("/message/message")
                .and_then(serde_json::Value::as_str)
        })?;
    let clean: String = text.chars().filter(|c| !c.is_control()).take(100).collect();
    (!clean.is_empty()).then_some(clean)
}

async fn process(st: &Inner, t: Target, req: Request, fault: &Fault) -> Reply {
    let r = t.endpoint.route;
    let expected = &t.endpoint.method;
    if req.method() != expected {
        return t
            .plugin
            .error(
                Some(r),
                StatusCode::METHOD_NOT_ALLOWED,
                "Method Not Allowed",
            )
            .header(header::ALLOW, expected.as_str());
    }
    let (parts, body) = req.into_parts();
    let body = match axum::body::to_bytes(body, st.cfg.max_body_bytes).await {
        Ok(b) => b,
        Err(_) => {
            return t.plugin.error(
                Some(r),
                StatusCode::BAD_REQUEST,
                "Request body is too large or could not be read",
            );
        }
    };
    let token_mode = if fault.expired_token {
        TokenMode::Expired
    } else if fault.token_without_exp {
        TokenMode::WithoutExp
    } else {
        TokenMode::Normal
    };
    let ctx = Ctx {
        uri: parts.uri,
        headers: parts.headers,
        body,
        token_mode,
    };
    (t.endpoint.handler)(st, ctx).await
}

/// Turns a reply into the wire response, applying the wire-level faults.
fn render(reply: Reply, fault: &Fault) -> Response {
    let (content_type, bytes): (&str, Bytes) = match reply.body {
        ReplyBody::Json(v) => ("application/json", Bytes::from(v.to_string())),
        ReplyBody::Raw {
            content_type,
            bytes,
        } => (content_type, bytes),
    };
    let content_type = if fault.wrong_content_type {
        "text/html; charset=utf-8"
    } else {
        content_type
    };
    let len = bytes.len();
    let body = if fault.truncated_body {
        use futures::StreamExt as _;
        let half = bytes.slice(..len / 2);
        // Send the head and half the body, give hyper time to flush them, then fail the body:
        // hyper closes the connection short of the declared Content-Length.
        let stream = futures::stream::iter([Ok::<Bytes, std::io::Error>(half)]).chain(
            futures::stream::once(async {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                Err(std::io::Error::other("sandbox: body truncated by fault"))
            }),
        );
        Body::from_stream(stream)
    } else {
        Body::from(bytes)
    };
    let mut resp = Response::new(body);
    *resp.status_mut() = reply.status;
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if fault.truncated_body {
        h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    }
    for (k, v) in reply.headers {
        h.append(k, v);
    }
    if let Some(ra) = &fault.retry_after
        && let Ok(v) = HeaderValue::from_str(&ra.header_value())
    {
        h.insert(header::RETRY_AFTER, v);
    }
    if let Some(ms) = fault.retry_after_ms {
        h.insert("retry-after-ms", HeaderValue::from(ms));
    }
    resp
}
