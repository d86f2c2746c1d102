//! The fleet protocol against a real `redis-server`, with several stores
//! standing for several processes and a scripted provider: the lease
//! extended under a slow fetch, the fenced write, the guard, waiters that
//! time out, refresh tokens kept past the access token, and a stored token
//! serving through a provider outage.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use payauth_runtime::redis_store::{RedisStore, RedisStoreConfig};
use payauth_runtime::store::FetchFn;
use payauth_runtime::{Error, ErrorKind, Outcome, Record, Secret, TokenStore, Wanted};
use workspace_tests::redis_server::RedisServer;

const KEY: &str = "institution:00112233445566778899aabbccddeeff";

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64
}

fn store_with(redis: &RedisServer, tune: impl FnOnce(&mut RedisStoreConfig)) -> RedisStore {
    let mut cfg = RedisStoreConfig::new(redis.url(), vec![("k1".into(), [7u8; 32])]);
    tune(&mut cfg);
    RedisStore::new(cfg).expect("store")
}

fn record(access: &str, refresh: Option<&str>, refresh_in_ms: i64, expires_in_ms: i64) -> Record {
    let now = now_ms();
    Record {
        access_token: Secret::new(access),
        refresh_token: refresh.map(Secret::new),
        expires_at_unix_ms: now + expires_in_ms,
        refresh_at_unix_ms: now + refresh_in_ms,
        refresh_token_expires_at_unix_ms: refresh.map(|_| now + 60_000),
    }
}

async fn raw(redis: &RedisServer) -> redis::aio::MultiplexedConnection {
    redis::Client::open(redis.url())
        .expect("client")
        .get_multiplexed_async_connection()
        .await
        .expect("connect")
}

async fn get(conn: &mut redis::aio::MultiplexedConnection, key: &str) -> Option<String> {
    redis::cmd("GET")
        .arg(key)
        .query_async(conn)
        .await
        .expect("GET")
}

fn fresh(r: &Record) -> bool {
    now_ms() < r.refresh_at_unix_ms
}

fn serviceable(r: &Record) -> bool {
    now_ms() < r.expires_at_unix_ms
}

fn wanted(give_up_when_busy: bool) -> Wanted<'static> {
    Wanted {
        fresh: &fresh,
        serviceable: &serviceable,
        give_up_when_busy,
    }
}

/// A provider with rotating refresh tokens: each is accepted once; what
/// was presented is recorded.
#[derive(Default)]
struct Rotating {
    valid: HashSet<String>,
    presented: Vec<String>,
    refused: u64,
    logins: u64,
    issued: u64,
    last_issued: Option<String>,
}

async fn rotating_fetch(
    provider: &Mutex<Rotating>,
    stored: Option<Record>,
    delay: Duration,
) -> Result<Record, Error> {
    tokio::time::sleep(delay).await;
    let mut p = provider.lock().expect("provider");
    if let Some(rt) = stored.and_then(|r| r.refresh_token) {
        let rt = rt.expose().to_string();
        p.presented.push(rt.clone());
        if !p.valid.remove(&rt) {
            p.refused += 1;
            p.logins += 1;
        }
    } else {
        p.logins += 1;
    }
    p.issued += 1;
    let next = format!("rt-{}", p.issued);
    p.valid.insert(next.clone());
    p.last_issued = Some(next.clone());
    Ok(record(&format!("at-{}", p.issued), Some(&next), 400, 5_000))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fetch_slower_than_the_lease_keeps_the_lock_and_uses_each_refresh_token_once() {
    let redis = RedisServer::start();
    // The lease (300 ms) is far shorter than one fetch (1 s).
    let stores: Vec<Arc<RedisStore>> = (0..4)
        .map(|_| {
            Arc::new(store_with(&redis, |c| {
                c.lock_ttl = Duration::from_millis(300);
            }))
        })
        .collect();
    let provider = Arc::new(Mutex::new(Rotating::default()));
    for _round in 0..3 {
        let mut tasks = Vec::new();
        for store in &stores {
            let (store, provider) = (Arc::clone(store), Arc::clone(&provider));
            tasks.push(tokio::spawn(async move {
                let fetch: FetchFn<'_> = Box::new(|stored| {
                    Box::pin(rotating_fetch(&provider, stored, Duration::from_secs(1)))
                });
                store.get_or_fetch(KEY, wanted(false), fetch).await
            }));
        }
        for t in tasks {
            let outcome = t.await.expect("task").expect("a token");
            assert!(
                matches!(outcome, Outcome::Fetched(_) | Outcome::Stored(_)),
                "{outcome:?}"
            );
        }
        // Due again (refresh time 400 ms after the fetch).
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let (logins, presented, refused, last_issued) = {
        let p = provider.lock().expect("provider");
        (
            p.logins,
            p.presented.clone(),
            p.refused,
            p.last_issued.clone(),
        )
    };
    let stats: Vec<_> = stores.iter().map(|s| s.stats()).collect();
    eprintln!(
        "logins {}, refresh tokens presented {:?}, stats {stats:?}",
        logins, presented
    );
    assert_eq!(refused, 0, "a refresh token was presented twice");
    let distinct: HashSet<_> = presented.iter().collect();
    assert_eq!(distinct.len(), presented.len());
    assert_eq!(logins, 1, "one login, then refreshes");
    assert_eq!(presented.len(), 2, "one refresh per round after the first");
    assert_eq!(stats.iter().map(|s| s.fetches_run).sum::<u64>(), 3);
    assert_eq!(stats.iter().map(|s| s.lost_locks).sum::<u64>(), 0);
    assert_eq!(stats.iter().map(|s| s.wait_timeouts).sum::<u64>(), 0);
    // No lost write: the store holds the last refresh token issued.
    let fetch: FetchFn<'_> = Box::new(|_| Box::pin(async { panic!("must not fetch") }));
    let any = |_: &Record| true;
    let stored = stores[0]
        .get_or_fetch(
            KEY,
            Wanted {
                fresh: &any,
                serviceable: &any,
                give_up_when_busy: false,
            },
            fetch,
        )
        .await
        .expect("stored");
    let Outcome::Stored(r) = stored else {
        panic!("{stored:?}")
    };
    assert_eq!(r.refresh_token.map(|s| s.expose().to_string()), last_issued);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_that_lost_the_lock_writes_nothing() {
    let redis = RedisServer::start();
    let store = store_with(&redis, |_| {});
    let lock_key = store.lock_key(KEY);
    let token_key = store.token_key(KEY);
    let mut conn = raw(&redis).await;
    let intruder = {
        let (lock_key, mut conn) = (lock_key.clone(), conn.clone());
        move || async move {
            // The lease ran out and another process took the lock.
            let _: () = redis::cmd("SET")
                .arg(&lock_key)
                .arg("intruder")
                .query_async(&mut conn)
                .await
                .expect("SET");
        }
    };
    let fetch: FetchFn<'_> = Box::new(|_| {
        Box::pin(async move {
            intruder().await;
            Ok(record("at", Some("rt"), 10_000, 20_000))
        })
    });
    let outcome = store
        .get_or_fetch(KEY, wanted(false), fetch)
        .await
        .expect("token");
    // The caller has its token; the store has nothing from it.
    assert!(matches!(outcome, Outcome::Fetched(_)), "{outcome:?}");
    assert_eq!(get(&mut conn, &token_key).await, None);
    assert_eq!(get(&mut conn, &lock_key).await.as_deref(), Some("intruder"));
    assert_eq!(store.stats().lost_locks, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_or_panicking_owner_releases_the_lock() {
    let redis = RedisServer::start();
    // A long lease: only the guard can free the lock this fast.
    let store = Arc::new(store_with(&redis, |c| c.lock_ttl = Duration::from_secs(60)));
    let lock_key = store.lock_key(KEY);
    let mut conn = raw(&redis).await;

    let slow: FetchFn<'_> = Box::new(|_| {
        Box::pin(async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok(record("never", None, 1, 1))
        })
    });
    let cancelled = tokio::time::timeout(
        Duration::from_millis(300),
        store.get_or_fetch(KEY, wanted(false), slow),
    )
    .await;
    assert!(cancelled.is_err(), "the fetch should still be running");
    wait_gone(&mut conn, &lock_key).await;

    let task = {
        let store = Arc::clone(&store);
        tokio::spawn(async move {
            let boom: FetchFn<'_> = Box::new(|_| {
                Box::pin(async {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    panic!("the fetch panicked");
                })
            });
            let _ = store.get_or_fetch(KEY, wanted(false), boom).await;
        })
    };
    assert!(task.await.is_err(), "the task panicked");
    wait_gone(&mut conn, &lock_key).await;
}

async fn wait_gone(conn: &mut redis::aio::MultiplexedConnection, key: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while get(conn, key).await.is_some() {
        assert!(Instant::now() < deadline, "the lock {key} was not released");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_refresh_token_outlives_the_access_token_in_the_store() {
    let redis = RedisServer::start();
    let store = store_with(&redis, |_| {});
    let token_key = store.token_key(KEY);
    let mut conn = raw(&redis).await;
    // Access token: 1 s. Refresh token: 60 s.
    let fetch: FetchFn<'_> =
        Box::new(|_| Box::pin(async { Ok(record("at-1", Some("rt-1"), 500, 1_000)) }));
    store
        .get_or_fetch(KEY, wanted(false), fetch)
        .await
        .expect("token");
    tokio::time::sleep(Duration::from_millis(1_300)).await;
    let pttl: i64 = redis::cmd("PTTL")
        .arg(&token_key)
        .query_async(&mut conn)
        .await
        .expect("PTTL");
    assert!(pttl > 50_000, "entry expires in {pttl} ms");
    // The access token is gone, but the next fetch refreshes with the
    // stored refresh token instead of logging in.
    let seen = Arc::new(Mutex::new(None));
    let fetch: FetchFn<'_> = {
        let seen = Arc::clone(&seen);
        Box::new(move |stored| {
            Box::pin(async move {
                *seen.lock().expect("seen") =
                    stored.and_then(|r| r.refresh_token.map(|s| s.expose().to_string()));
                Ok(record("at-2", Some("rt-2"), 500, 1_000))
            })
        })
    };
    store
        .get_or_fetch(KEY, wanted(false), fetch)
        .await
        .expect("token");
    assert_eq!(seen.lock().expect("seen").as_deref(), Some("rt-1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_due_unexpired_token_serves_when_the_provider_fails() {
    let redis = RedisServer::start();
    let first = store_with(&redis, |_| {});
    // Due at once, valid for a minute.
    let fetch: FetchFn<'_> =
        Box::new(|_| Box::pin(async { Ok(record("stored", None, -1, 60_000)) }));
    first
        .get_or_fetch(KEY, wanted(false), fetch)
        .await
        .expect("token");
    // A new process; the provider is down.
    let fresh_process = store_with(&redis, |_| {});
    let down: FetchFn<'_> = Box::new(|_| {
        Box::pin(async {
            Err(Error::new(
                ErrorKind::Transient,
                "institution",
                "provider down",
            ))
        })
    });
    let outcome = fresh_process
        .get_or_fetch(KEY, wanted(false), down)
        .await
        .expect("the stored token serves");
    match outcome {
        Outcome::Stale {
            record,
            error: Some(_),
        } => assert_eq!(record.access_token.expose(), "stored"),
        other => panic!("{other:?}"),
    }
    assert_eq!(fresh_process.stats().stale_served, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiters_that_time_out_serve_give_up_or_fetch_and_publish() {
    let redis = RedisServer::start();
    let holder = Arc::new(store_with(&redis, |_| {}));
    let waiter = store_with(&redis, |c| c.max_wait = Duration::from_millis(200));
    let never: fn(Option<Record>) -> _ = |_| -> futures::future::BoxFuture<'static, _> {
        Box::pin(async { panic!("this waiter must not fetch") })
    };

    // The holder's fetch is slow (the provider is slow).
    let hold = |holder: Arc<RedisStore>, key: &'static str| {
        tokio::spawn(async move {
            let slow: FetchFn<'_> = Box::new(|_| {
                Box::pin(async {
                    tokio::time::sleep(Duration::from_millis(1_500)).await;
                    Ok(record("holder", None, 10_000, 20_000))
                })
            });
            holder.get_or_fetch(key, wanted(false), slow).await
        })
    };

    // 1. A due, unexpired record is stored: the waiter serves it.
    let seeded: FetchFn<'_> =
        Box::new(|_| Box::pin(async { Ok(record("seed", None, -1, 60_000)) }));
    holder
        .get_or_fetch(KEY, wanted(false), seeded)
        .await
        .expect("seed");
    let h = hold(Arc::clone(&holder), KEY);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let outcome = waiter
        .get_or_fetch(KEY, wanted(false), Box::new(never))
        .await
        .expect("token");
    assert!(
        matches!(&outcome, Outcome::Stale { record, error: None } if record.access_token.expose() == "seed"),
        "{outcome:?}"
    );
    // A proactive refresh gives up even then: its caller keeps its own.
    let outcome = waiter
        .get_or_fetch(KEY, wanted(true), Box::new(never))
        .await
        .expect("busy");
    assert!(matches!(outcome, Outcome::Busy), "{outcome:?}");
    h.await.expect("holder").expect("holder token");

    // 2. Nothing stored; a proactive refresh (it has a token) gives up.
    const OTHER: &str = "institution:ffeeddccbbaa99887766554433221100";
    let h = hold(Arc::clone(&holder), OTHER);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let outcome = waiter
        .get_or_fetch(OTHER, wanted(true), Box::new(never))
        .await
        .expect("busy");
    assert!(matches!(outcome, Outcome::Busy), "{outcome:?}");
    h.await.expect("holder").expect("holder token");

    // 3. Nothing stored, no token of its own: fetch alone and publish.
    const THIRD: &str = "institution:0000000000000000ffffffffffffffff";
    let h = hold(Arc::clone(&holder), THIRD);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let alone: FetchFn<'_> = Box::new(|stored| {
        Box::pin(async move {
            assert!(stored.is_none(), "no stored refresh token when alone");
            Ok(record("alone", None, 10_000, 20_000))
        })
    });
    let outcome = waiter
        .get_or_fetch(THIRD, wanted(false), alone)
        .await
        .expect("token");
    assert!(matches!(outcome, Outcome::Fetched(_)), "{outcome:?}");
    assert_eq!(waiter.stats().published, 1);
    let third = store_with(&redis, |_| {});
    let outcome = third
        .get_or_fetch(THIRD, wanted(false), Box::new(never))
        .await
        .expect("published");
    assert!(
        matches!(&outcome, Outcome::Stored(r) if r.access_token.expose() == "alone"),
        "{outcome:?}"
    );
    h.await.expect("holder").expect("holder token");
    let s = waiter.stats();
    assert_eq!(
        (s.wait_timeouts, s.stale_served, s.gave_up),
        (4, 1, 2),
        "{s:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_is_used_again_after_redis_restarts() {
    let mut redis = RedisServer::start();
    let store = store_with(&redis, |c| c.max_backoff = Duration::from_millis(400));
    store.ping().await.expect("up");
    redis.kill();
    assert!(store.ping().await.is_err());
    redis.restart();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let started = Instant::now();
        let outcome = store.ping().await;
        eprintln!("ping after restart: {outcome:?} in {:?}", started.elapsed());
        if outcome.is_ok() {
            break;
        }
        assert!(Instant::now() < deadline, "{:?}", store.stats());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!store.is_down());
}
