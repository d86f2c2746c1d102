//! Redis and Valkey over TLS with a private CA made here (openssl CLI),
//! and an ACL user holding only the rights the README documents: a fleet
//! shares its tokens. A wrong CA or a wrong password: every request still
//! succeeds on the local cache, and the store says so with one warning.
//! (The same through a TLS cluster: `redis_cluster.rs`.)

use std::time::Duration;

use payauth_runtime::redis_store::{RedisStore, RedisStoreConfig};
use payauth_runtime::store::FetchFn;
use payauth_runtime::{Outcome, Record, TokenStore, Wanted};
use payauth_sandbox::{Provider, Sandbox};
use pledg::Secret;
use workspace_tests::fleet::{Fleet, assert_shared, one_at_a_time, sandbox_with_lifetime, sum};
use workspace_tests::redis_access::{
    PASSWORD, Pki, acl_setuser, degrades, fleet_env, store_keys, tls_args, with_user,
};
use workspace_tests::redis_server::{Engine, RedisServer};

fn tls_server(engine: Engine, pki: &Pki) -> RedisServer {
    let server = RedisServer::start_engine(engine, |port| tls_args(pki, port));
    assert_eq!(server.cli(&acl_setuser()).trim(), "OK", "ACL SETUSER");
    server
}

/// `rediss://tokens:PASSWORD@127.0.0.1:PORT`
fn url(server: &RedisServer, password: &str) -> String {
    with_user(&server.url(), password)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_shares_tokens_over_tls_with_a_least_privilege_acl_user() {
    fleet_over_tls(Engine::Redis).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_shares_tokens_over_tls_with_a_least_privilege_acl_user_on_valkey() {
    fleet_over_tls(Engine::Valkey).await;
}

async fn fleet_over_tls(engine: Engine) {
    let _one = one_at_a_time().await;
    let pki = Pki::generate();
    let server = tls_server(engine, &pki);
    let sandbox = sandbox_with_lifetime(Duration::from_secs(2)).await;
    let fleet = Fleet::small(
        env!("CARGO_BIN_EXE_fleet_worker"),
        Duration::from_secs(6),
        url(&server, PASSWORD),
        fleet_env(Some(&pki)),
    );
    let reports = fleet.run(&sandbox).await;
    let logins = sandbox.counters().logins(Provider::Pledg);
    eprintln!("{engine:?} TLS + ACL fleet: {logins} logins");
    for r in &reports {
        eprintln!("  {r}");
    }
    // Each fetch under the fleet lock is the fleet's only login.
    assert_shared(&reports, logins);

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

// Current-thread runtime: the capturing subscriber sees every event.
#[tokio::test]
async fn a_wrong_ca_or_a_wrong_password_degrades_to_the_local_cache_with_one_warning() {
    misconfigured_or_right(Engine::Redis).await;
}

#[tokio::test]
async fn a_wrong_ca_or_a_wrong_password_degrades_to_the_local_cache_with_one_warning_on_valkey() {
    misconfigured_or_right(Engine::Valkey).await;
}

async fn misconfigured_or_right(engine: Engine) {
    let pki = Pki::generate();
    let server = tls_server(engine, &pki);
    let sandbox = Sandbox::start().await.expect("sandbox");

    let mut wrong_ca = RedisStoreConfig::new(url(&server, PASSWORD), store_keys());
    wrong_ca.ca_file = Some(pki.path("other-ca.crt").into());
    degrades(&sandbox, wrong_ca).await;

    let mut wrong_password = RedisStoreConfig::new(url(&server, "not-the-password"), store_keys());
    wrong_password.ca_file = Some(pki.path("ca.crt").into());
    degrades(&sandbox, wrong_password).await;

    // The right settings work, and the ACL user may run every command and
    // script of the protocol: lock, lease extension (a fetch slower than
    // the lease), fenced write.
    let mut right = RedisStoreConfig::new(url(&server, PASSWORD), store_keys());
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
