//! HTTP plumbing: the request pipeline (counters + faults around the provider handlers), the
//! router, and a hyper accept loop that can really drop a connection.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::any;
use bytes::Bytes;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tower::ServiceExt as _;

use crate::jwt::TokenMode;
use crate::providers::{self, Ctx, Reply, ReplyBody};
use crate::state::{Inner, inc};
use crate::types::{Fault, Provider, Route};

pub(crate) type AppState = Arc<Inner>;

/// Marks a response that must not be sent: the connection is closed instead.
#[derive(Debug, Clone, Copy)]
struct DropConnection;

#[derive(Debug)]
struct DroppedByFault;

impl std::fmt::Display for DroppedByFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by an injected sandbox fault")
    }
}

impl std::error::Error for DroppedByFault {}

const MALFORMED_BODY: &str = "<html><head><title>502 Bad Gateway</title></head><body>upstream \
                              error</body></html>\n{\"token\": \"eyJhbGciOi";

pub(crate) fn router(st: AppState) -> Router {
    let mut r: Router<AppState> = Router::new();
    for p in Provider::ALL {
        for &route in p.routes() {
            let path = format!(
                "{}{}",
                p.base_path(),
                p.route_path(route).unwrap_or_default()
            );
            r = r.route(
                &path,
                any(move |State(st): State<AppState>, req: Request| endpoint(st, p, route, req)),
            );
        }
    }
    r.route(
        "/__sandbox/{*rest}",
        any(|State(st): State<AppState>, req: Request| crate::control::handle(st, req)),
    )
    .fallback(|req: Request| async move { not_found(req) })
    .with_state(st)
}

fn not_found(req: Request) -> Response {
    let path = req.uri().path();
    let provider = Provider::ALL
        .into_iter()
        .find(|p| path == p.base_path() || path.starts_with(&format!("{}/", p.base_path())));
    match provider {
        Some(p) => render(
            providers::error(p, None, StatusCode::NOT_FOUND, "Not Found"),
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

/// The pipeline every provider request goes through.
async fn endpoint(st: AppState, p: Provider, r: Route, req: Request) -> Response {
    let c = st.counter(p, r);
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
        return resp;
    }
    let reply = if let Some(status) = fault.status {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        let reason = status.canonical_reason().unwrap_or("Injected fault");
        providers::error(p, Some(r), status, reason)
    } else if fault.malformed_body {
        Reply::raw(StatusCode::OK, "application/json", MALFORMED_BODY)
    } else {
        let reply = match fault.respond_after {
            // Processed in its own task: it completes even when the client
            // times out and drops the connection during the delay.
            Some(delay) => {
                let (st2, fault2) = (st.clone(), fault.clone());
                let task = tokio::spawn(async move { process(&st2, p, r, req, &fault2).await });
                let reply = match task.await {
                    Ok(reply) => reply,
                    Err(_) => providers::error(
                        p,
                        Some(r),
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "Internal Server Error",
                    ),
                };
                tokio::time::sleep(delay).await;
                reply
            }
            None => process(&st, p, r, req, &fault).await,
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
    render(reply, &fault)
}

async fn process(st: &Inner, p: Provider, r: Route, req: Request, fault: &Fault) -> Reply {
    let expected = providers::method_of(r);
    if req.method() != expected {
        return providers::error(
            p,
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
            return providers::error(
                p,
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
    providers::handle(st, p, r, ctx).await
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

/// Running accept loop; dropping the sender (or sending `true`) stops it.
#[derive(Debug)]
pub(crate) struct Server {
    pub addr: SocketAddr,
    pub shutdown: watch::Sender<bool>,
    pub task: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

pub(crate) async fn serve(st: AppState) -> std::io::Result<Server> {
    let listener = TcpListener::bind(st.cfg.bind).await?;
    let addr = listener.local_addr()?;
    let app = router(st);
    let (tx, mut rx) = watch::channel(false);
    let task = tokio::spawn(async move {
        let mut conns = JoinSet::new();
        loop {
            tokio::select! {
                changed = rx.changed() => {
                    if changed.is_err() || *rx.borrow() {
                        break;
                    }
                }
                accepted = listener.accept() => {
                    let Ok((stream, _)) = accepted else {
                        // e.g. EMFILE under load: back off briefly instead of spinning.
                        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                        continue;
                    };
                    let _ = stream.set_nodelay(true);
                    let app = app.clone();
                    conns.spawn(serve_connection(stream, app));
                }
                Some(_) = conns.join_next(), if !conns.is_empty() => {}
            }
        }
        drop(listener);
        conns.abort_all();
        while conns.join_next().await.is_some() {}
    });
    Ok(Server {
        addr,
        shutdown: tx,
        task: std::sync::Mutex::new(Some(task)),
    })
}

async fn serve_connection(stream: tokio::net::TcpStream, app: Router) {
    let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
        let app = app.clone();
        async move {
            let resp: Response = match app.oneshot(req).await {
                Ok(r) => r,
                Err(e) => match e {},
            };
            if resp.extensions().get::<DropConnection>().is_some() {
                // hyper closes the connection without writing anything.
                return Err(DroppedByFault);
            }
            Ok::<_, DroppedByFault>(resp)
        }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .serve_connection(TokioIo::new(stream), service)
        .await;
}
