//! Run a fleet of `fleet_worker` processes against the sandbox's pledg
//! emulation and collect their JSON reports.

use std::time::Duration;

use sandbox::{Credentials, Provider, Sandbox};
use serde_json::Value;

/// One fleet run.
#[derive(Debug, Clone)]
pub struct Fleet {
    /// Path of the `fleet_worker` binary (`env!("CARGO_BIN_EXE_fleet_worker")`).
    pub worker: String,
    pub processes: usize,
    pub concurrency: usize,
    pub run: Duration,
    pub pause: Duration,
    /// `--redis`: `none`, or a URL (comma-separated seeds for a cluster).
    pub redis: String,
    /// Extra environment (`AUTH_RUNTIME_REDIS_KEYS`, `…_CA_FILE`…).
    pub env: Vec<(String, String)>,
}

impl Fleet {
    /// Start the workers; their reports once they all finished.
    ///
    /// # Panics
    /// If a worker fails or prints no JSON.
    pub async fn run(&self, sandbox: &Sandbox) -> Vec<Value> {
        let Credentials::Pledg {
            api_key,
            api_secret,
        } = sandbox.credentials(Provider::Pledg)
        else {
            panic!("pledg credentials");
        };
        let mut children = Vec::new();
        for _ in 0..self.processes {
            let mut cmd = tokio::process::Command::new(&self.worker);
            cmd.args(["--provider", "pledg"])
                .args(["--base-url", &sandbox.base_url(Provider::Pledg)])
                .args(["--api-key", &api_key])
                .args(["--api-secret", &api_secret])
                .args(["--duration-ms", &self.run.as_millis().to_string()])
                .args(["--concurrency", &self.concurrency.to_string()])
                .args(["--pause-ms", &self.pause.as_millis().to_string()])
                .args(["--redis", &self.redis])
                .env_remove("AUTH_RUNTIME_REDIS_URL")
                .envs(self.env.iter().map(|(k, v)| (k, v)))
                .stdout(std::process::Stdio::piped())
                .kill_on_drop(true);
            children.push(cmd.spawn().expect("spawn fleet_worker"));
        }
        let mut reports = Vec::new();
        for child in children {
            let out = child.wait_with_output().await.expect("fleet_worker output");
            assert!(out.status.success(), "fleet_worker failed: {}", out.status);
            reports.push(serde_json::from_slice(&out.stdout).expect("JSON report"));
        }
        reports
    }
}

/// The sum of a numeric field over the reports (`"store.fallbacks"` for
/// a nested one).
pub fn sum(reports: &[Value], field: &str) -> u64 {
    reports
        .iter()
        .map(|r| field.split('.').fold(r, |v, f| &v[f]).as_u64().unwrap_or(0))
        .sum()
}
