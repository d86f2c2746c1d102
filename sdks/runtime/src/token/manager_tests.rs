//! The gap inside [`TokenManager::obtain_token`] between its two reads —
//! is a flight live, is the cached token usable — which a flight may cross
//! by publishing its token and releasing its slot (lock-free, without the
//! slot's lock the caller holds). Forced here with a hook in that gap.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use futures::future::BoxFuture;
use tokio::sync::Semaphore;

use super::manager::{GAP_HOOK, TokenManager};
use super::{Issued, Lead, Profile, TokenFlow};
use crate::base::error::Error;
use crate::base::expiry::ExpiryHints;
use crate::base::secret::Secret;
use crate::base::time::SystemClock;
use crate::observe::metrics::Metrics;

const PROFILE: Profile = Profile {
    name: "test",
    refresh_lead: Lead::Fraction(0.15),
    assumed_lifetime: Duration::from_secs(600),
    base_url_env: "TEST_BASE_URL",
    sandbox_url: None,
    production_url: None,
};

/// Logins that count themselves; the first says it started and waits for
/// the gate, the others answer at once.
struct Gated {
    logins: AtomicU32,
    started: Mutex<mpsc::Sender<()>>,
    gate: Semaphore,
}

impl TokenFlow for Gated {
    fn login(&self) -> BoxFuture<'_, Result<Issued, Error>> {
        Box::pin(async move {
            let n = self.logins.fetch_add(1, Ordering::SeqCst);
            if n == 0 {
                let _ = self.started.lock().expect("sender").send(());
                self.gate.acquire().await.expect("gate open").forget();
            }
            Ok(Issued {
                access_token: Secret::new(format!("token-{n}")),
                refresh_token: None,
                hints: ExpiryHints {
                    relative: Some(Duration::from_secs(600)),
                    ..ExpiryHints::default()
                },
            })
        })
    }
}

/// Caller A starts a flight; caller B, on another thread, looks at the
/// empty cache, and the flight then ends — its token published, its slot
/// released — before B looks for a live flight. B must take the token,
/// not start a second flight (two logins: seen as two auth calls for a
/// thousand callers at expiry, once in six loaded runs of the suite).
#[test]
fn a_flight_ending_between_the_two_reads_is_not_followed_by_another() {
    let (started_tx, started) = mpsc::channel();
    let flow = Arc::new(Gated {
        logins: AtomicU32::new(0),
        started: Mutex::new(started_tx),
        gate: Semaphore::new(0),
    });
    let manager = TokenManager::new(
        PROFILE,
        flow.clone(),
        Arc::new(SystemClock),
        Arc::new(Metrics::default()),
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");

    // A: the flight, its login held at the gate.
    let (a_done_tx, a_done) = mpsc::channel();
    let a = Arc::clone(&manager);
    runtime.spawn(async move {
        let token = a.token().await;
        let _ = a_done_tx.send(token);
    });
    started
        .recv_timeout(Duration::from_secs(30))
        .expect("A's flight logs in");

    // B: in the gap, the flight is let through and runs to its end.
    let (b_token, a_token) = std::thread::scope(|s| {
        let b = s.spawn(|| {
            let (flow, a_done) = (flow.clone(), a_done);
            let a_token = Arc::new(Mutex::new(None));
            let seen = Arc::clone(&a_token);
            GAP_HOOK.with(|hook| {
                *hook.borrow_mut() = Some(Box::new(move || {
                    flow.gate.add_permits(1);
                    let token = a_done
                        .recv_timeout(Duration::from_secs(30))
                        .expect("A's flight ends");
                    *seen.lock().expect("seen") = Some(token);
                }));
            });
            let b_token = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime")
                .block_on(manager.token());
            let a_token = a_token.lock().expect("seen").take();
            (b_token, a_token)
        });
        b.join().expect("B")
    });
    let a_token = a_token.expect("the hook ran").expect("A's token");
    let b_token = b_token.expect("B's token");
    assert_eq!(
        flow.logins.load(Ordering::SeqCst),
        1,
        "B started a second flight"
    );
    assert_eq!(a_token.id(), b_token.id());
}
