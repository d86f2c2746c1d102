//! A hyper accept loop that can really drop a connection (an injected fault).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::response::Response;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tower::ServiceExt as _;

use crate::http::pipeline::{DropConnection, DroppedByFault, router};
use crate::state::Inner;

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

pub(crate) async fn serve(st: Arc<Inner>) -> std::io::Result<Server> {
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
