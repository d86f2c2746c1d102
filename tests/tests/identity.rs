//! Credentials own their tokens, tried as an application would: a wrong
//! secret never reaches someone else's cached token (in process or through
//! Redis), a client rebuilt per request reuses the cache, a rotated secret
//! gets a cache of its own, and the bearer never leaves the base URL's
//! origin.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use bursagb::StorefrontExt;
use payauth_runtime::redis_store::{RedisStore, RedisStoreConfig};
use payauth_runtime::{ErrorKind, Secret};
use payauth_sandbox::{Provider, Sandbox};
use workspace_tests::redis_server::RedisServer;

fn bursagb_accounts(sandbox: &Sandbox) -> (String, String, Vec<(String, String)>) {
    let creds = sandbox.credentials(Provider::Bursagb);
    let email = creds.text("email").to_owned();
    let password = creds.text("password").to_owned();
    let customers = creds
        .field::<Vec<(String, String)>>("customers")
        .expect("customers");
    (email, password, customers)
}

/// The provider refused the login (bursagb answers 400 with
/// `success: false`).
fn assert_refused(e: &payauth_runtime::Error) {
    assert!(
        matches!(
            e.kind(),
            ErrorKind::InvalidCredentials | ErrorKind::BadRequest
        ),
        "{e}"
    );
}

fn bursagb(sandbox: &Sandbox, email: &str, password: &str) -> bursagb::Client {
    bursagb::builder()
        .base_url(sandbox.base_url(Provider::Bursagb))
        .credentials(bursagb::Credentials::new(email, Secret::new(password)))
        .build()
        .expect("client")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_never_gets_the_partners_cached_token() {
    let sandbox = Sandbox::start().await.expect("sandbox");
    let (email, password, customers) = bursagb_accounts(&sandbox);
    let partner = bursagb(&sandbox, &email, &password);
    let token = partner.bearer().await.expect("the partner logs in");

    let intruder = bursagb(&sandbox, &email, "wrong");
    let e = intruder
        .bearer()
        .await
        .expect_err("no token for a wrong password");
    assert_refused(&e);
    assert_eq!(
        partner.bearer().await.unwrap().id(),
        token.id(),
        "the partner's cache is untouched"
    );

    // Storefronts: alice's live client does not lend her token to a guess.
    let (alice, alice_pw) = &customers[0];
    let alice_client = partner
        .storefront(alice, Secret::new(alice_pw.clone()))
        .unwrap();
    alice_client.bearer().await.expect("alice logs in");
    let guess = partner.storefront(alice, Secret::new("guess")).unwrap();
    let e = guess
        .bearer()
        .await
        .expect_err("a guessed password gets nothing");
    assert_refused(&e);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_rebuilt_per_request_logs_in_once() {
    let sandbox = Sandbox::start().await.expect("sandbox");
    let (email, password, customers) = bursagb_accounts(&sandbox);
    for _ in 0..3 {
        let client = bursagb(&sandbox, &email, &password);
        client.bearer().await.expect("token");
        drop(client);
    }
    assert_eq!(sandbox.counters().logins(Provider::Bursagb), 1);
    // The storefront-per-request pattern: one login per customer.
    let (alice, alice_pw) = &customers[0];
    for _ in 0..3 {
        let reseller = bursagb(&sandbox, &email, &password);
        let shop = reseller
            .storefront(alice, Secret::new(alice_pw.clone()))
            .unwrap();
        shop.bearer().await.expect("token");
    }
    assert_eq!(sandbox.counters().logins(Provider::Bursagb), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_secret_gets_its_own_cache_and_old_clients_keep_working() {
    let sandbox = Sandbox::start().await.expect("sandbox");
    let creds = sandbox.credentials(Provider::Pledg);
    let api_key = creds.text("api_key").to_owned();
    let api_secret = creds.text("api_secret").to_owned();
    let pledg = |key: &str, secret: &str| {
        pledg::builder()
            .base_url(sandbox.base_url(Provider::Pledg))
            .credentials(pledg::Credentials::new(key.to_string(), secret))
            .build()
            .expect("client")
    };
    let old = pledg(&api_key, &api_secret);
    let old_token = old.bearer().await.expect("token");
    let creds = sandbox.rotate_credentials(Provider::Pledg);
    let new_key = creds.text("api_key").to_owned();
    let new_secret = creds.text("api_secret").to_owned();
    let new = pledg(&new_key, &new_secret);
    let new_token = new.bearer().await.expect("the new secret logs in");
    assert_ne!(new_token.id(), old_token.id(), "a cache of its own");
    assert_eq!(sandbox.counters().logins(Provider::Pledg), 2);
    // The old client keeps its cached token until dropped.
    assert_eq!(old.bearer().await.unwrap().id(), old_token.id());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bearer_never_leaves_the_configured_origin() {
    // A server that counts every connection it gets.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits = Arc::new(AtomicU32::new(0));
    let seen = Arc::clone(&hits);
    tokio::spawn(async move {
        while let Ok((_sock, _)) = listener.accept().await {
            seen.fetch_add(1, Ordering::SeqCst);
        }
    });
    let sandbox = Sandbox::start().await.expect("sandbox");
    let root = sandbox.root_url();
    let (email, password, _) = bursagb_accounts(&sandbox);
    // A base URL without a path: `@host:port/x` appended makes a URL whose
    // user information is the configured host.
    let client = bursagb::builder()
        .base_url(root.trim_end_matches('/'))
        .credentials(bursagb::Credentials::new(email, Secret::new(password)))
        .build()
        .unwrap();
    for path in [
        format!("@127.0.0.1:{port}/x"),
        format!(".evil.example:{port}/x"),
    ] {
        let e = client
            .send(client.request(reqwest::Method::GET, &path))
            .await
            .expect_err("refused");
        assert_eq!(e.kind(), ErrorKind::Config, "{e}");
        assert!(!e.to_string().contains("Bearer"), "{e}");
    }
    let absolute = client
        .send(
            client
                .connect()
                .http()
                .get(format!("http://127.0.0.1:{port}/steal")),
        )
        .await
        .expect_err("refused");
    assert_eq!(absolute.kind(), ErrorKind::Config);
    assert!(
        absolute.to_string().contains(&format!("127.0.0.1:{port}")),
        "names the origin: {absolute}"
    );
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "nothing reached the other server"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_redis_a_wrong_password_gets_nothing_either() {
    let redis = RedisServer::start();
    let sandbox = Sandbox::start().await.expect("sandbox");
    let (email, password, _) = bursagb_accounts(&sandbox);
    let store = Arc::new(
        RedisStore::new(RedisStoreConfig::new(
            redis.url(),
            vec![("k1".into(), [7; 32])],
        ))
        .expect("store"),
    );
    let client = |pw: &str| {
        bursagb::builder()
            .base_url(sandbox.base_url(Provider::Bursagb))
            .credentials(bursagb::Credentials::new(email.clone(), Secret::new(pw)))
            // Each its own in-process cache: only Redis could share.
            .shared_cache(false)
            .token_store(store.clone())
            .build()
            .expect("client")
    };
    let right = client(&password);
    right.bearer().await.expect("token");
    let wrong = client("wrong");
    let e = wrong.bearer().await.expect_err("no token");
    assert_refused(&e);
    // And the right password in another "process" does share it.
    let again = client(&password);
    again.bearer().await.expect("token");
    // The sandbox counts successful logins: one, shared through Redis.
    assert_eq!(sandbox.counters().logins(Provider::Bursagb), 1);
}
