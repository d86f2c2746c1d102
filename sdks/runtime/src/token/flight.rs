//! One detached fetch (a flight): started once per principal however many
//! callers need a token, run by a spawned task that owns the manager,
//! bounded in time, released by a guard however the task ends, and
//! reported to the triggering client's telemetry.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::FutureExt;
use futures::future::{BoxFuture, Either, select};
use reqwest::header::HeaderValue;
use tracing::{Instrument, info_span, warn};

use super::manager::{Flight, Outcome, TokenManager};
use super::profile::REFRESH_COOL_DOWN;
use super::source::TokenSource;
use crate::base::error::{Error, ErrorKind};
use crate::base::sync::lock;
use crate::observe::events::{Observe as _, Reason};
use crate::observe::metrics::MetricsSnapshot;
use crate::observe::telemetry::{FetchReport, FetchSpan};

/// How long past its fetch timeout a waiter on another runtime still waits
/// for a flight on a current-thread runtime before it takes the flight for
/// stranded (that runtime idle) and starts a new one.
pub const FLIGHT_GRACE: Duration = Duration::from_secs(1);

static NEXT_FLIGHT: AtomicU64 = AtomicU64::new(1);

impl TokenManager {
    /// The flight's outcome, or `None` when it ended without one or was
    /// not driven to its deadline (then it is released, so the next caller
    /// starts a new one).
    pub(super) async fn wait(&self, flight: &Flight, source: &TokenSource) -> Option<Outcome> {
        let elsewhere = flight.idle_prone.is_some_and(|runs_on| {
            tokio::runtime::Handle::try_current().map(|h| h.id()).ok() != Some(runs_on)
        });
        if !elsewhere {
            return flight.outcome.clone().await;
        }
        let left = flight.deadline.saturating_duration_since(self.clock.now());
        match select(flight.outcome.clone(), source.sleep_for(left)).await {
            Either::Left((outcome, _)) => outcome,
            Either::Right(((), outcome)) => {
                // Its task may be ready to run on this very runtime (a
                // current-thread runtime nobody drove meanwhile): let it
                // — its own time limit, passed too, ends it at once.
                tokio::task::yield_now().await;
                if let Some(outcome) = outcome.now_or_never() {
                    return outcome;
                }
                warn!(
                    provider = self.profile.name,
                    "the token fetch was not driven to its deadline (its runtime idle?); starting another"
                );
                self.release(flight.id);
                None
            }
        }
    }

    /// Release the slot of flight `id` if it is still the live one.
    pub(super) fn release(&self, id: u64) {
        let _ = self
            .flying
            .compare_exchange(id, 0, Ordering::AcqRel, Ordering::Acquire);
    }

    pub(super) fn now_ms(&self, now: Instant) -> u64 {
        now.saturating_duration_since(self.epoch).as_millis() as u64
    }

    /// No background refresh before [`REFRESH_COOL_DOWN`] from now.
    pub(super) fn cool_down(&self) {
        let retry_at = self.now_ms(self.clock.now()) + REFRESH_COOL_DOWN.as_millis() as u64;
        self.not_before_ms.store(retry_at, Ordering::Relaxed);
    }

    pub(super) fn refresh_in_background(self: &Arc<Self>, now: Instant, source: &Arc<TokenSource>) {
        if self.flying.load(Ordering::Acquire) != 0
            || self.now_ms(now) < self.not_before_ms.load(Ordering::Relaxed)
        {
            return;
        }
        if tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        let mut slot = lock(&self.flight);
        if self.live(&slot).is_some() {
            return;
        }
        let seen = self.current.load().as_ref().map(|t| t.id);
        self.start_flight(&mut slot, Reason::Proactive, seen, None, source);
    }

    /// Start the detached fetch and put it in `slot` (held by the caller).
    pub(super) fn start_flight(
        self: &Arc<Self>,
        slot: &mut Option<Flight>,
        reason: Reason,
        proactive_seen: Option<u64>,
        rejected: Option<HeaderValue>,
        source: &Arc<TokenSource>,
    ) -> Flight {
        let id = NEXT_FLIGHT.fetch_add(1, Ordering::Relaxed);
        let name = self.profile.name;
        // Live before the task exists: a runtime that drops the task at
        // once (shutting down) releases it through the guard, which must
        // find this id.
        self.flying.store(id, Ordering::Release);
        // Made here and moved into the task: dropping the task — polled
        // or not — releases the slot.
        let guard = FlightGuard {
            manager: Arc::clone(self),
            id,
            proactive: reason == Reason::Proactive,
        };
        let allowed = source.fetch_timeout().saturating_add(FLIGHT_GRACE);
        let proactive = reason == Reason::Proactive;
        if proactive {
            self.observer(source).proactive_refresh();
        }
        // A child of the call that needs the token; a background refresh,
        // which nobody waits for, starts a trace of its own.
        let span = source
            .telemetry()
            .fetch(reason.as_str(), proactive, self.clock.now());
        let link = span.link();
        // The fetch's time limit runs from now, not from the task's first
        // poll: a task that waits to be scheduled still ends before its
        // waiters' deadline.
        let limit = source.sleep_for(source.fetch_timeout());
        let source = Arc::clone(source);
        let task = async move {
            let guard = guard;
            guard
                .manager
                .run_fetch(reason, proactive_seen, rejected, &source, limit, span)
                .await
        };
        let mut idle_prone = None;
        let outcome: BoxFuture<'static, Option<Outcome>> =
            match tokio::runtime::Handle::try_current() {
                Ok(handle) => {
                    if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::CurrentThread {
                        idle_prone = Some(handle.id());
                    }
                    let join = handle.spawn(task);
                    async move {
                        match join.await {
                            Ok(outcome) => Some(outcome),
                            Err(e) if e.is_panic() => Some(Err(Error::new(
                                ErrorKind::Transient,
                                name,
                                "the token fetch panicked",
                            ))),
                            // Dropped with its runtime: no outcome.
                            Err(_) => None,
                        }
                    }
                    .boxed()
                }
                // Not inside Tokio: the first waiter drives the fetch.
                Err(_) => task.map(Some).boxed(),
            };
        let now = self.clock.now();
        let deadline = now.checked_add(allowed).unwrap_or(now);
        let flight = Flight {
            id,
            outcome: outcome.shared(),
            idle_prone,
            deadline,
            link,
        };
        *slot = Some(flight.clone());
        flight
    }

    /// The body of a flight: fetch (bounded in time), publish, account.
    pub(super) async fn run_fetch(
        self: &Arc<Self>,
        reason: Reason,
        proactive_seen: Option<u64>,
        rejected: Option<HeaderValue>,
        source: &TokenSource,
        limit: BoxFuture<'static, ()>,
        span: FetchSpan,
    ) -> Outcome {
        let now = self.clock.now();
        if reason == Reason::Proactive
            && let Some(t) = self.current.load_full()
            && now < t.usable_until
            && (Some(t.id) != proactive_seen || now < t.refresh_at)
        {
            let report = FetchReport {
                source: "cached",
                error: None,
                store: None,
            };
            span.finish(report, now);
            return Ok(t);
        }
        let before = self.metrics.snapshot();
        let fetch = async {
            match &self.store {
                Some(store) => {
                    self.fetch_through_store(store.as_ref(), rejected, source)
                        .await
                }
                None => self.fetch_direct(source).await,
            }
        };
        let allowed = source.fetch_timeout();
        // The log's span around the fetch — unless OpenTelemetry has one:
        // through a `tracing` → OpenTelemetry bridge it would be a second
        // span of the same fetch, the login parented to it.
        let fetch = if span.is_traced() {
            Either::Left(span.attach(fetch))
        } else {
            let tracing_span =
                info_span!("auth.fetch", provider = self.profile.name, reason = ?reason);
            Either::Right(fetch.instrument(tracing_span))
        };
        let outcome = match select(std::pin::pin!(fetch), limit).await {
            Either::Left((outcome, _)) => outcome,
            Either::Right(_) => Err(Error::new(
                ErrorKind::Transient,
                self.profile.name,
                format!("the token fetch took longer than {allowed:?}"),
            )),
        };
        match &outcome {
            Ok(token) => self.current.store(Some(Arc::clone(token))),
            Err(e) => {
                // A failed fetch never displaces a still-valid token.
                self.observer(source)
                    .fetch_failed(self.profile.name, reason, e);
                if reason == Reason::Proactive {
                    self.cool_down();
                }
            }
        }
        span.finish(self.report(&before, &outcome), self.clock.now());
        outcome
    }
}

impl TokenManager {
    /// How the fetch that began at `before` (the cache's counters) went.
    pub(super) fn report(&self, before: &MetricsSnapshot, outcome: &Outcome) -> FetchReport {
        let after = self.metrics.snapshot();
        let source = if after.logins > before.logins {
            "login"
        } else if after.refreshes > before.refreshes {
            "refresh"
        } else if self.store.is_some() {
            "store"
        } else {
            "none"
        };
        let store = self.store.as_ref().map(|store| match source {
            _ if !store.is_reachable() => "outage",
            "store" => "hit",
            _ => "miss",
        });
        FetchReport {
            source,
            error: outcome.as_ref().err().map(Error::kind),
            store,
        }
    }
}

/// Releases the slot when the flight ends — normally, by panic, or because
/// its task was dropped (polled or not: the guard is made before the spawn
/// and moved into the task) — so the next caller starts a new one. One
/// compare-and-swap, no lock: it may run inside `spawn`, whose caller
/// holds the slot's lock.
struct FlightGuard {
    manager: Arc<TokenManager>,
    id: u64,
    proactive: bool,
}

impl Drop for FlightGuard {
    fn drop(&mut self) {
        if self.proactive && std::thread::panicking() {
            // A panicking flow cools down like a failing one.
            self.manager.cool_down();
        }
        self.manager.release(self.id);
    }
}
