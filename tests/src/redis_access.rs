//! TLS and ACL fixtures of the Redis/Valkey tests: a private CA made with
//! the openssl CLI, the arguments of a TLS-only server, the README's
//! least-privilege ACL user, and the check that a misconfigured store
//! degrades to the local cache (every request succeeds, one warning).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use payauth_runtime::redis_store::{RedisStore, RedisStoreConfig};
use payauth_sandbox::{Provider, Sandbox};

use crate::fleet::pledg_credentials;

pub const USER: &str = "tokens";
pub const PASSWORD: &str = "s3cret-tokens-password";
/// The least-privilege ACL rule of the README (module docs of
/// `redis_store`), for the default prefix.
pub const ACL_RULES: &[&str] = &[
    "on",
    ">s3cret-tokens-password",
    "resetkeys",
    "~auth-runtime:v1:*",
    "resetchannels",
    "-@all",
    "+get",
    "+set",
    "+del",
    "+pexpire",
    "+eval",
    "+ping",
    "+cluster|slots",
    "+cluster|shards",
    "+readonly",
];

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("openssl (apt-get install -y openssl)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA, a server certificate it signed (localhost, 127.0.0.1), and an
/// unrelated CA, in a temporary folder removed on drop.
#[derive(Debug)]
pub struct Pki {
    dir: PathBuf,
}

impl Pki {
    /// Make them with the openssl CLI (≈0.3 s).
    pub fn generate() -> Pki {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("auth-runtime-tls-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("tls dir");
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
        for ca in ["ca", "other-ca"] {
            let (key, crt) = (format!("{ca}.key"), format!("{ca}.crt"));
            let mut args = vec!["req", "-x509", "-nodes", "-days", "2"];
            args.extend(ec);
            args.extend(["-keyout", &key, "-out", &crt, "-subj", "/CN=test-ca"]);
            openssl(&dir, &args);
        }
        let mut args = vec!["req", "-nodes"];
        args.extend(ec);
        args.extend([
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=localhost",
        ]);
        openssl(&dir, &args);
        std::fs::write(
            dir.join("ext.cnf"),
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n",
        )
        .expect("ext");
        openssl(
            &dir,
            &[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "server.crt",
                "-days",
                "2",
                "-extfile",
                "ext.cnf",
            ],
        );
        Pki { dir }
    }

    /// `ca.crt`, `other-ca.crt`, `server.crt`, `server.key` in its folder.
    pub fn path(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The server's TLS-only arguments (`--port 0` follows from
/// `--tls-port`) and the cli's.
pub fn tls_args(pki: &Pki, port: u16) -> (Vec<String>, Vec<String>) {
    let extra = vec![
        "--tls-port".into(),
        port.to_string(),
        "--tls-cert-file".into(),
        pki.path("server.crt"),
        "--tls-key-file".into(),
        pki.path("server.key"),
        "--tls-ca-cert-file".into(),
        pki.path("ca.crt"),
        "--tls-auth-clients".into(),
        "no".into(),
    ];
    let cli = vec!["--tls".into(), "--cacert".into(), pki.path("ca.crt")];
    (extra, cli)
}

/// `ACL SETUSER tokens <the README's rules>`, for a cli.
pub fn acl_setuser() -> Vec<&'static str> {
    let mut acl = vec!["ACL", "SETUSER", USER];
    acl.extend(ACL_RULES);
    acl
}

/// The URL (or comma-separated seeds) with the ACL user's credentials.
pub fn with_user(urls: &str, password: &str) -> String {
    urls.replace("://", &format!("://{USER}:{password}@"))
}

/// The store's encryption key (what [`fleet_env`] hands the workers).
pub fn store_keys() -> Vec<(String, [u8; 32])> {
    vec![("k1".into(), [31u8; 32])]
}

/// A fleet's environment: the key and, with TLS, the private CA and a
/// TLS-friendly timeout.
pub fn fleet_env(pki: Option<&Pki>) -> Vec<(String, String)> {
    let mut env = vec![(
        "AUTH_RUNTIME_REDIS_KEYS".to_string(),
        format!("k1:{}", STANDARD.encode([31u8; 32])),
    )];
    if let Some(pki) = pki {
        env.push(("AUTH_RUNTIME_REDIS_CA_FILE".into(), pki.path("ca.crt")));
        // A TLS handshake in a debug build on a busy 2-core machine
        // can take longer than the 250 ms default.
        env.push(("AUTH_RUNTIME_REDIS_TIMEOUT_MS".into(), "2000".into()));
    }
    env
}

/// Collects what the tracing subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// 30 calls through a client whose store is misconfigured: all succeed,
/// one login (the local cache), one warning.
///
/// Run it on a current-thread runtime: the capturing subscriber is this
/// thread's, and sees every event only if every task runs here.
pub async fn degrades(sandbox: &Sandbox, cfg: RedisStoreConfig) {
    let store = Arc::new(RedisStore::new(cfg).expect("store"));
    let (api_key, api_secret) = pledg_credentials(sandbox);
    let client = pledg::builder()
        .base_url(sandbox.base_url(Provider::Pledg))
        .credentials(pledg::Credentials::new(api_key, api_secret))
        .shared_cache(false)
        .token_store(store.clone())
        .build()
        .expect("client");
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .with_writer({
            let c = captured.clone();
            move || c.clone()
        })
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    sandbox.reset_counters();
    for _ in 0..30 {
        let resp = client
            .send(client.request(reqwest::Method::GET, "/sandbox/protected"))
            .await
            .expect("request");
        assert!(resp.status().is_success());
    }
    let log = String::from_utf8(captured.0.lock().expect("log").clone()).expect("utf8");
    let warnings = log
        .matches("shared token store (Redis) unavailable")
        .count();
    let stats = store.stats();
    eprintln!("degraded: {stats:?}\n{log}");
    assert_eq!(warnings, 1, "{log}");
    assert!(stats.redis_errors >= 1 && stats.fallbacks >= 1, "{stats:?}");
    assert_eq!(sandbox.counters().logins(Provider::Pledg), 1);
}
