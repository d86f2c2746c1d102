//! A throwaway Redis Cluster for tests: 3 masters + 3 replicas on free
//! loopback ports, node timeout 2 s, no persistence; servers stopped by
//! their pid on drop. Needs `redis-server` and `redis-cli` (Debian's
//! `redis-server` and `redis-tools`; `cargo xtask test` installs them).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::redis_server::{RedisServer, redis_cli};

/// How long the cluster may take to form or to fail over.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(30);

/// A running cluster.
#[derive(Debug)]
pub struct RedisCluster {
    nodes: Vec<RedisServer>,
    dir: PathBuf,
}

impl RedisCluster {
    /// Start 6 nodes, create the cluster (1 replica per master) and wait
    /// until every node reports `cluster_state:ok` and every replica's link
    /// is up.
    ///
    /// # Panics
    /// If the cluster does not form in time.
    pub fn start() -> RedisCluster {
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
                let dir = dir.clone();
                RedisServer::start_with(move |port| {
                    let d = dir.join(port.to_string());
                    std::fs::create_dir_all(&d).expect("node dir");
                    let args = [
                        "--cluster-enabled",
                        "yes",
                        "--cluster-node-timeout",
                        "2000",
                        "--repl-diskless-sync-delay",
                        "0",
                    ];
                    let mut extra: Vec<String> = args.iter().map(|s| s.to_string()).collect();
                    extra.extend([
                        "--dir".to_string(),
                        d.display().to_string(),
                        "--cluster-config-file".to_string(),
                        format!("nodes-{port}.conf"),
                    ]);
                    (extra, Vec::new())
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
        let created = redis_cli(cluster.nodes[0].port(), &[], &args);
        assert!(created.is_some(), "redis-cli --cluster create failed");
        cluster.wait_healthy();
        cluster
    }

    /// The seed URLs, comma-separated (what `AUTH_RUNTIME_REDIS_URL` takes).
    pub fn seeds(&self) -> String {
        self.nodes
            .iter()
            .map(|n| n.url())
            .collect::<Vec<_>>()
            .join(",")
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
