//! Redis over TLS with a private CA made here (openssl CLI), and an ACL
//! user holding only the rights the README documents: a fleet shares its
//! tokens. A wrong CA or a wrong password: every request still succeeds
//! on the local cache, and the store says so with one warning.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use auth_runtime::redis_store::{RedisStore, RedisStoreConfig};
use auth_runtime::store::FetchFn;
use auth_runtime::{Outcome, Record, TokenStore, Wanted};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use pledg::Secret;
use sandbox::{Credentials, Provider, Sandbox, SandboxConfig};
use workspace_tests::fleet::{Fleet, sum};
use workspace_tests::redis_server::RedisServer;

const USER: &str = "tokens";
const PASSWORD: &str = "s3cret-tokens-password";
/// The least-privilege ACL rule of the README (module docs of
/// `redis_store`), for the default prefix.
const ACL_RULES: &[&str] = &[
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
/// unrelated CA.
struct Pki {
    dir: PathBuf,
}

impl Pki {
    fn new() -> Pki {
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

    fn path(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn tls_server(pki: &Pki) -> RedisServer {
    let server = RedisServer::start_with(|port| {
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
    });
    let mut acl = vec!["ACL", "SETUSER", USER];
    acl.extend(ACL_RULES);
    assert_eq!(server.cli(&acl).trim(), "OK", "ACL SETUSER");
    server
}

fn url(server: &RedisServer, password: &str) -> String {
    format!("rediss://{USER}:{password}@127.0.0.1:{}", server.port())
}

fn keys() -> Vec<(String, [u8; 32])> {
    vec![("k1".into(), [31u8; 32])]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_shares_tokens_over_tls_with_a_least_privilege_acl_user() {
    let pki = Pki::new();
    let server = tls_server(&pki);
    let mut cfg = SandboxConfig::default();
    cfg.pledg.token_lifetime = Duration::from_secs(2);
    let sandbox = Sandbox::start_with(cfg).await.expect("sandbox");
    let fleet = Fleet {
        worker: env!("CARGO_BIN_EXE_fleet_worker").to_string(),
        processes: 3,
        concurrency: 20,
        run: Duration::from_secs(6),
        pause: Duration::from_millis(200),
        redis: url(&server, PASSWORD),
        env: vec![
            (
                "AUTH_RUNTIME_REDIS_KEYS".into(),
                format!("k1:{}", STANDARD.encode([31u8; 32])),
            ),
            ("AUTH_RUNTIME_REDIS_CA_FILE".into(), pki.path("ca.crt")),
            // A TLS handshake in a debug build on a busy 2-core machine
            // can take longer than the 250 ms default.
            ("AUTH_RUNTIME_REDIS_TIMEOUT_MS".into(), "2000".into()),
        ],
    };
    let reports = fleet.run(&sandbox).await;
    let logins = sandbox.counters().logins(Provider::Pledg);
    eprintln!("TLS + ACL fleet: {logins} logins");
    for r in &reports {
        eprintln!("  {r}");
    }
    assert_eq!(sum(&reports, "failed"), 0, "{reports:?}");
    assert_eq!(sum(&reports, "store.redis_errors"), 0, "{reports:?}");
    assert_eq!(sum(&reports, "store.fallbacks"), 0, "{reports:?}");
    assert!(sum(&reports, "store.fetches_run") > 0, "{reports:?}");
    assert!(
        sum(&reports, "store.hits") + sum(&reports, "store.waited") > 0,
        "{reports:?}"
    );
    // Each fetch under the fleet lock is the fleet's only login.
    assert_eq!(logins, sum(&reports, "store.fetches_run"));

    // No CA setting: the system's roots, which `SSL_CERT_FILE` replaces.
    let mut env = fleet.env.clone();
    env.retain(|(k, _)| k != "AUTH_RUNTIME_REDIS_CA_FILE");
    env.push(("SSL_CERT_FILE".into(), pki.path("ca.crt")));
    let system_roots = Fleet {
        processes: 2,
        run: Duration::from_secs(3),
        env,
        ..fleet
    };
    let reports = system_roots.run(&sandbox).await;
    assert_eq!(sum(&reports, "failed"), 0, "{reports:?}");
    assert_eq!(sum(&reports, "store.redis_errors"), 0, "{reports:?}");
    assert!(sum(&reports, "store.fetches_run") > 0, "{reports:?}");
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
async fn degrades(sandbox: &Sandbox, cfg: RedisStoreConfig) {
    let store = Arc::new(RedisStore::new(cfg).expect("store"));
    let Credentials::Pledg {
        api_key,
        api_secret,
    } = sandbox.credentials(Provider::Pledg)
    else {
        panic!("pledg credentials");
    };
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

// Current-thread runtime: the capturing subscriber sees every event.
#[tokio::test]
async fn a_wrong_ca_or_a_wrong_password_degrades_to_the_local_cache_with_one_warning() {
    let pki = Pki::new();
    let server = tls_server(&pki);
    let sandbox = Sandbox::start().await.expect("sandbox");

    let mut wrong_ca = RedisStoreConfig::new(url(&server, PASSWORD), keys());
    wrong_ca.ca_file = Some(pki.path("other-ca.crt").into());
    degrades(&sandbox, wrong_ca).await;

    let mut wrong_password = RedisStoreConfig::new(url(&server, "not-the-password"), keys());
    wrong_password.ca_file = Some(pki.path("ca.crt").into());
    degrades(&sandbox, wrong_password).await;

    // The right settings work, and the ACL user may run every command and
    // script of the protocol: lock, lease extension (a fetch slower than
    // the lease), fenced write.
    let mut right = RedisStoreConfig::new(url(&server, PASSWORD), keys());
    right.ca_file = Some(pki.path("ca.crt").into());
    right.op_timeout = Duration::from_secs(2);
    right.lock_ttl = Duration::from_millis(300);
    let store = RedisStore::connect(right).await.expect("TLS + ACL user");
    let fetch: FetchFn<'_> = Box::new(|_| {
        Box::pin(async {
            tokio::time::sleep(Duration::from_millis(800)).await;
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("clock")
                .as_millis() as i64;
            Ok(Record {
                access_token: Secret::new("at"),
                refresh_token: None,
                expires_at_unix_ms: now + 60_000,
                refresh_at_unix_ms: now + 60_000,
                refresh_token_expires_at_unix_ms: None,
            })
        })
    });
    let none = |_: &Record| false;
    store
        .get_or_fetch(
            "pledg:acl",
            Wanted {
                fresh: &none,
                serviceable: &none,
                give_up_when_busy: false,
            },
            fetch,
        )
        .await
        .expect("fetched");
    let stats = store.stats();
    assert_eq!(
        (stats.redis_errors, stats.lost_locks, stats.fetches_run),
        (0, 0, 1),
        "{stats:?}"
    );
    let all = |_: &Record| true;
    let never: FetchFn<'_> = Box::new(|_| Box::pin(async { panic!("stored") }));
    let got = store
        .get_or_fetch(
            "pledg:acl",
            Wanted {
                fresh: &all,
                serviceable: &all,
                give_up_when_busy: false,
            },
            never,
        )
        .await
        .expect("stored");
    assert!(matches!(got, Outcome::Stored(_)), "{got:?}");
}
