//! A throwaway Redis (or Valkey) Cluster for tests: 3 masters + 3
//! replicas on free loopback ports, node timeout 2 s, no persistence,
//! plain or TLS (bus and replication too); servers stopped by their pid on
//! drop. Needs the server and its cli (Debian's `redis-server` and
//! `redis-tools`, or `valkey-server` and `valkey-tools`; `cargo xtask
//! test` installs them).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::redis_server::{Engine, RedisServer};

/// How long the cluster may take to form or to fail over.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(30);

/// A running cluster.
#[derive(Debug)]
pub struct RedisCluster {
    nodes: Vec<RedisServer>,
    dir: PathBuf,
}

impl RedisCluster {
    /// Start 6 `redis-server` nodes, create the cluster (1 replica per
    /// master) and wait until every node reports `cluster_state:ok` and
    /// every replica's link is up.
    ///
    /// # Panics
    /// If the cluster does not form in time.
    pub fn start() -> RedisCluster {
        Self::start_with(Engine::Redis, |_| (Vec::new(), Vec::new()))
    }

    /// [`RedisCluster::start`] for either engine, each node with extra
    /// arguments (`args(port)`: the server's and the cli's, as
    /// [`RedisServer::start_engine`] takes them). With `--tls-port` the
    /// nodes also speak TLS on the cluster bus and for replication.
    ///
    /// # Panics
    /// If the cluster does not form in time.
    pub fn start_with(
        engine: Engine,
        args: impl Fn(u16) -> (Vec<String>, Vec<String>),
    ) -> RedisCluster {
        let dir = std::env::temp_dir().join(format!(
            "auth-runtime-cluster-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        std::fs::create_dir_all(&dir).expect("cluster dir");
        let nodes: Vec<RedisServer> = (0..6)
            .map(|_| {
                RedisServer::start_engine(engine, |port| {
                    let (mut extra, cli) = args(port);
                    if extra.iter().any(|a| a == "--tls-port") {
                        extra.extend(
                            ["--tls-cluster", "yes", "--tls-replication", "yes"].map(String::from),
                        );
                    }
                    let d = dir.join(port.to_string());
                    std::fs::create_dir_all(&d).expect("node dir");
                    let cluster = [
                        "--cluster-enabled",
                        "yes",
                        "--cluster-node-timeout",
                        "2000",
                        "--repl-diskless-sync-delay",
                        "0",
                    ];
                    extra.extend(cluster.map(String::from));
                    extra.extend([
                        "--dir".to_string(),
                        d.display().to_string(),
                        "--cluster-config-file".to_string(),
                        format!("nodes-{port}.conf"),
                    ]);
                    (extra, cli)
                })
            })
            .collect();
        let cluster = RedisCluster { nodes, dir };
        let addrs: Vec<String> = cluster
            .nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port()))
            .collect();
        let mut args = vec!["--cluster", "create"];
        args.extend(addrs.iter().map(String::as_str));
        args.extend(["--cluster-replicas", "1", "--cluster-yes"]);
        let created = cluster.nodes[0].cli(&args);
        assert!(
            created.contains("All 16384 slots covered"),
            "{} --cluster create failed: {created}",
            engine.cli()
        );
        cluster.wait_healthy();
        cluster
    }

    /// The seed URLs, comma-separated (what `AUTH_RUNTIME_REDIS_URL` takes):
    /// `redis://127.0.0.1:P,…` (`rediss://` with TLS).
    pub fn seeds(&self) -> String {
        self.nodes
            .iter()
            .map(|n| n.url())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Run the cli with `args` on every running node (replicas too: `ACL
    /// SETUSER` is not replicated); each node's stdout.
    pub fn cli_on_every_node(&self, args: &[&str]) -> Vec<String> {
        self.nodes
            .iter()
            .filter(|n| n.is_running())
            .map(|n| n.cli(args))
            .collect()
    }

    /// Wait until every running node says `cluster_state:ok` and every
    /// running replica's link to its master is up.
    ///
    /// # Panics
    /// If that takes longer than 30 s.
    pub fn wait_healthy(&self) {
        let deadline = Instant::now() + SETTLE_TIMEOUT;
        loop {
            let healthy = self.nodes.iter().filter(|n| n.is_running()).all(|n| {
                let info = n.cli(&["CLUSTER", "INFO"]);
                let repl = n.cli(&["INFO", "replication"]);
                info.contains("cluster_state:ok")
                    && (repl.contains("role:master") || repl.contains("master_link_status:up"))
            });
            if healthy {
                return;
            }
            assert!(Instant::now() < deadline, "the cluster did not settle");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The port of the running master that holds `key_pattern`'s keys
    /// (`SCAN` on each master), if any.
    pub fn master_holding(&self, key_pattern: &str) -> Option<u16> {
        self.nodes
            .iter()
            .filter(|n| n.is_running() && n.cli(&["INFO", "replication"]).contains("role:master"))
            .find(|n| {
                !n.cli(&["--scan", "--pattern", key_pattern])
                    .trim()
                    .is_empty()
            })
            .map(RedisServer::port)
    }

    /// SIGKILL the node on `port` (its replica takes over after the node
    /// timeout).
    pub fn kill(&mut self, port: u16) {
        if let Some(n) = self.nodes.iter_mut().find(|n| n.port() == port) {
            n.kill();
        }
    }
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        for n in &mut self.nodes {
            n.kill();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
