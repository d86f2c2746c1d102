//! The way to Redis: a standalone server or a cluster, plain or TLS, made
//! lazily; every command bounded by the operation timeout; and the gate
//! that keeps a dead Redis off the request path (one `warn!` per outage,
//! a growing pause between probes).

use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use redis::AsyncConnectionConfig;
use redis::aio::MultiplexedConnection;
use redis::cluster::{ClusterClient, ClusterClientBuilder};
use redis::cluster_async::ClusterConnection;
use tracing::{debug, info, warn};

use super::config::{NAME, RedisStoreConfig, redact_url};
use super::stats::{Counters, inc};
use crate::base::error::Error;
use crate::base::sync::lock;

/// How often the cluster client retries one command by itself (`MOVED`,
/// `TRYAGAIN`, a reconnect): few, since every command is bounded by the
/// operation timeout anyway and the store falls back to direct fetches.
const CLUSTER_RETRIES: u32 = 2;

/// A client for one standalone server or for a cluster.
enum Client {
    Single(Box<redis::Client>),
    Cluster(Box<ClusterClient>),
}

/// A live connection (cheap to clone: both kinds multiplex).
#[derive(Clone)]
pub(super) enum Conn {
    Single(MultiplexedConnection),
    Cluster(ClusterConnection),
}

impl Conn {
    /// One command, unbounded (callers bound it).
    pub(super) async fn query<T: redis::FromRedisValue>(
        &mut self,
        cmd: &redis::Cmd,
    ) -> redis::RedisResult<T> {
        match self {
            Conn::Single(c) => cmd.query_async(c).await,
            Conn::Cluster(c) => cmd.query_async(c).await,
        }
    }
}

/// Whether Redis is believed down, and when to try it again.
struct Gate {
    backoff: Duration,
    retry_at: Option<Instant>,
}

/// A Redis command failed or timed out (already counted and logged).
pub(super) struct Failed;

pub(super) struct Link {
    client: Client,
    op_timeout: Duration,
    min_backoff: Duration,
    max_backoff: Duration,
    /// The live connection, if any, and the runtime it lives on (never
    /// held across an await). Its driver task belongs to that runtime: on
    /// another one (a runtime per test, a sync wrapper) it is made anew,
    /// never used after its runtime is gone.
    conn: Mutex<Option<(Option<tokio::runtime::Id>, Conn)>>,
    /// One connection attempt at a time.
    connecting: tokio::sync::Mutex<()>,
    /// Fast check of `gate`: set while Redis is believed down.
    down: AtomicBool,
    gate: Mutex<Gate>,
}

/// The runtime this code runs on, if any.
fn current_runtime() -> Option<tokio::runtime::Id> {
    tokio::runtime::Handle::try_current().ok().map(|h| h.id())
}

impl fmt::Debug for Link {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Link")
            .field(
                "mode",
                &match self.client {
                    Client::Single(_) => "standalone",
                    Client::Cluster(_) => "cluster",
                },
            )
            .field("down", &self.down.load(Ordering::Relaxed))
            .finish()
    }
}

impl Link {
    /// Validates the URLs (and reads the CA file); connects nothing.
    pub(super) fn new(cfg: &RedisStoreConfig) -> Result<Link, Error> {
        let urls = cfg.urls();
        let shown = || {
            urls.iter()
                .map(|u| redact_url(u))
                .collect::<Vec<_>>()
                .join(",")
        };
        if urls.is_empty() {
            return Err(Error::config(NAME, "no Redis URL"));
        }
        let invalid = |e: redis::RedisError| {
            Error::config(
                NAME,
                format!("invalid Redis URL `{}` ({:?})", shown(), e.kind()),
            )
        };
        let ca = match &cfg.ca_file {
            Some(path) => Some(std::fs::read(path).map_err(|e| {
                Error::config(
                    NAME,
                    format!("cannot read the Redis CA file {}: {e}", path.display()),
                )
            })?),
            None => None,
        };
        let certs = |root: Vec<u8>| redis::TlsCertificates {
            client_tls: None,
            root_cert: Some(root),
        };
        let client = if cfg.cluster {
            let mut builder = ClusterClientBuilder::new(urls.clone())
                .connection_timeout(cfg.op_timeout)
                .response_timeout(cfg.op_timeout)
                .retries(CLUSTER_RETRIES)
                .min_retry_wait(10)
                .max_retry_wait(100);
            if let Some(root) = ca {
                builder = builder.certs(certs(root));
            }
            Client::Cluster(Box::new(builder.build().map_err(invalid)?))
        } else {
            if urls.len() > 1 {
                return Err(Error::config(
                    NAME,
                    "several Redis URLs are only allowed in cluster mode",
                ));
            }
            let url = urls[0].as_str();
            Client::Single(Box::new(
                match ca {
                    Some(root) => redis::Client::build_with_tls(url, certs(root)),
                    None => redis::Client::open(url),
                }
                .map_err(invalid)?,
            ))
        };
        Ok(Link {
            client,
            op_timeout: cfg.op_timeout,
            min_backoff: cfg.min_backoff,
            max_backoff: cfg.max_backoff,
            conn: Mutex::new(None),
            connecting: tokio::sync::Mutex::new(()),
            down: AtomicBool::new(false),
            gate: Mutex::new(Gate {
                backoff: Duration::ZERO,
                retry_at: None,
            }),
        })
    }

    pub(super) fn op_timeout(&self) -> Duration {
        self.op_timeout
    }

    pub(super) fn is_down(&self) -> bool {
        self.down.load(Ordering::Relaxed)
    }

    /// One command, bounded by the operation timeout.
    pub(super) async fn run<T: redis::FromRedisValue>(
        &self,
        counters: &Counters,
        conn: &mut Conn,
        cmd: &redis::Cmd,
    ) -> Result<T, Failed> {
        let result = tokio::time::timeout(self.op_timeout, conn.query::<T>(cmd)).await;
        self.settle(counters, result)
    }

    fn settle<T>(
        &self,
        counters: &Counters,
        result: Result<redis::RedisResult<T>, tokio::time::error::Elapsed>,
    ) -> Result<T, Failed> {
        match result {
            Ok(Ok(v)) => {
                self.note_ok();
                Ok(v)
            }
            Ok(Err(e)) => Err(self.note_failure(counters, &e)),
            Err(_) => Err(self.note_failure(counters, &"timed out")),
        }
    }

    /// The live connection of this runtime, if any.
    fn live(&self) -> Option<Conn> {
        let here = current_runtime();
        lock(&self.conn)
            .as_ref()
            .filter(|(made_on, _)| *made_on == here)
            .map(|(_, c)| c.clone())
    }

    /// The live connection, or a new one (bounded by the timeout).
    pub(super) async fn connection(&self, counters: &Counters) -> Result<Conn, Failed> {
        if let Some(c) = self.live() {
            return Ok(c);
        }
        let attempt = async {
            let _one_at_a_time = self.connecting.lock().await;
            if let Some(c) = self.live() {
                return Ok(c);
            }
            let conn = match &self.client {
                Client::Single(client) => {
                    let config = AsyncConnectionConfig::new()
                        .set_connection_timeout(Some(self.op_timeout))
                        .set_response_timeout(Some(self.op_timeout));
                    Conn::Single(
                        client
                            .get_multiplexed_async_connection_with_config(&config)
                            .await?,
                    )
                }
                Client::Cluster(client) => Conn::Cluster(client.get_async_connection().await?),
            };
            *lock(&self.conn) = Some((current_runtime(), conn.clone()));
            Ok::<_, redis::RedisError>(conn)
        };
        // A cluster connection asks a seed for the slot map first.
        let budget = match self.client {
            Client::Single(_) => self.op_timeout,
            Client::Cluster(_) => self.op_timeout * 2,
        };
        let result = tokio::time::timeout(budget, attempt).await;
        self.settle(counters, result)
    }

    pub(super) fn gate_open(&self) -> bool {
        if !self.down.load(Ordering::Acquire) {
            return true;
        }
        let gate = lock(&self.gate);
        gate.retry_at.is_none_or(|at| Instant::now() >= at)
    }

    fn note_ok(&self) {
        if !self.down.load(Ordering::Acquire) {
            return;
        }
        let mut gate = lock(&self.gate);
        if self.down.swap(false, Ordering::AcqRel) {
            gate.retry_at = None;
            gate.backoff = Duration::ZERO;
            info!("shared token store (Redis) is reachable again");
        }
    }

    fn note_failure(&self, counters: &Counters, error: &dyn fmt::Display) -> Failed {
        inc(&counters.redis_errors);
        // The next attempt reconnects.
        *lock(&self.conn) = None;
        let now = Instant::now();
        let mut gate = lock(&self.gate);
        if !self.down.swap(true, Ordering::AcqRel) {
            gate.backoff = self.min_backoff;
            gate.retry_at = Some(now + gate.backoff);
            warn!(
                error = %error,
                retry_in = ?gate.backoff,
                "shared token store (Redis) unavailable; fetching tokens directly until it is back"
            );
        } else if gate.retry_at.is_none_or(|at| now >= at) {
            // A probe after the pause failed: pause longer. (Commands that
            // were in flight when Redis went away do not count.)
            gate.backoff = (gate.backoff * 2)
                .max(self.min_backoff)
                .min(self.max_backoff.max(self.min_backoff));
            gate.retry_at = Some(now + gate.backoff);
            debug!(error = %error, retry_in = ?gate.backoff, "Redis still unavailable");
        }
        Failed
    }
}
