//! The one callback sender every provider uses: a provider hands it a signed callback and
//! the URL its request named ([`CallbackSender::send`]); the sender chooses where it goes
//! ([`destination`]), POSTs it in a task of its own, tries again with backoff on the
//! sandbox clock while the receiver answers anything but 2xx or nothing, gives up after
//! the configured number of attempts (a warning in the log), and reports every attempt as a
//! [`CallbackEvent`] (to subscribers and to [`recent`]).

pub(crate) mod destination;
pub(crate) mod recent;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use reqwest::Url;
use tokio::sync::watch;

use crate::callback::SignedCallback;
use crate::callback_config::CallbackSettings;
use crate::clock::Clock;
use crate::events::{Answer, CallbackEvent, CallbackOutcome, EventBus, SandboxEvent};
use crate::provider::Provider;
use destination::Destination;
use recent::Recent;

/// Callbacks under way at once, at most, and their bodies' bytes: past either a new one is
/// not sent (an event says so). Memory stays bounded whatever a fuzzer does.
pub(crate) const MAX_PENDING: usize = 1_000;
pub(crate) const MAX_PENDING_BYTES: usize = 64 * 1024 * 1024;

/// A callback a provider's state change produced.
#[derive(Debug, Clone)]
pub(crate) struct Outgoing {
    pub provider: Provider,
    /// What it is about (a transaction id, a `uti`, a purchase uid).
    pub object: String,
    /// The status it reports.
    pub status: String,
    /// The URL the request named.
    pub url: String,
    pub callback: SignedCallback,
}

#[derive(Debug)]
pub(crate) struct CallbackSender {
    settings: CallbackSettings,
    /// `None` when no HTTP client could be built: every callback is then "not sent".
    http: Option<reqwest::Client>,
    clock: Arc<Clock>,
    events: Arc<EventBus>,
    recent: Recent,
    deliveries: AtomicU64,
    pending: Arc<Budget>,
    stop: watch::Sender<bool>,
}

/// Callbacks under way and their bytes.
#[derive(Debug, Default)]
struct Budget {
    callbacks: AtomicUsize,
    bytes: AtomicUsize,
}

impl Budget {
    /// Takes room for one callback of `bytes`, or says why there is none.
    fn take(self: &Arc<Self>, bytes: usize) -> Result<Pending, String> {
        if self.callbacks.fetch_add(1, Ordering::Relaxed) >= MAX_PENDING {
            self.callbacks.fetch_sub(1, Ordering::Relaxed);
            return Err(format!("{MAX_PENDING} callbacks are under way already"));
        }
        if self.bytes.fetch_add(bytes, Ordering::Relaxed) + bytes > MAX_PENDING_BYTES {
            self.bytes.fetch_sub(bytes, Ordering::Relaxed);
            self.callbacks.fetch_sub(1, Ordering::Relaxed);
            return Err(format!(
                "callbacks under way hold {} MiB already",
                MAX_PENDING_BYTES >> 20
            ));
        }
        Ok(Pending {
            budget: self.clone(),
            bytes,
        })
    }
}

/// One callback on its way.
#[derive(Debug)]
struct Delivery {
    id: u64,
    out: Outgoing,
    url: Url,
    shown: String,
    forwarded: bool,
}

/// A delivery's room in the budget, given back when it ends.
#[derive(Debug)]
struct Pending {
    budget: Arc<Budget>,
    bytes: usize,
}

impl Drop for Pending {
    fn drop(&mut self) {
        self.budget.bytes.fetch_sub(self.bytes, Ordering::Relaxed);
        self.budget.callbacks.fetch_sub(1, Ordering::Relaxed);
    }
}

impl CallbackSender {
    pub(crate) fn new(
        settings: CallbackSettings,
        clock: Arc<Clock>,
        events: Arc<EventBus>,
    ) -> Self {
        let http = reqwest::Client::builder()
            .timeout(settings.attempt_timeout)
            .redirect(reqwest::redirect::Policy::none())
            // A proxy from the environment must not carry loopback callbacks elsewhere.
            .no_proxy()
            .build()
            .ok();
        CallbackSender {
            settings,
            http,
            clock,
            events,
            recent: Recent::default(),
            deliveries: AtomicU64::new(0),
            pending: Arc::default(),
            stop: watch::Sender::new(false),
        }
    }

    /// Sends `out` in the background (see the module's documentation).
    pub(crate) fn send(self: &Arc<Self>, out: Outgoing) {
        let id = self.deliveries.fetch_add(1, Ordering::Relaxed) + 1;
        let (url, shown, forwarded) = match destination::choose(&self.settings, &out.url) {
            Destination::Send {
                url,
                shown,
                forwarded,
            } => (url, shown, forwarded),
            Destination::Refuse { shown, reason } => {
                return self.not_sent(id, &out, shown, reason);
            }
        };
        let delivery = Delivery {
            id,
            out,
            url,
            shown,
            forwarded,
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            let reason = "no async runtime to send it from".to_owned();
            return self.not_sent(id, &delivery.out, delivery.shown, reason);
        };
        let bytes = delivery.out.callback.body.len() + delivery.out.url.len();
        let pending = match self.pending.take(bytes) {
            Ok(pending) => pending,
            Err(reason) => return self.not_sent(id, &delivery.out, delivery.shown, reason),
        };
        runtime.spawn(self.clone().deliver(delivery, pending));
    }

    /// The latest event of each recent callback, oldest first.
    pub(crate) fn recent(&self) -> Vec<CallbackEvent> {
        self.recent.all()
    }

    /// Stops every delivery under way (the sandbox is shutting down).
    pub(crate) fn stop(&self) {
        self.stop.send_replace(true);
    }

    /// One POST of `callback` to `url`: what the receiver answered.
    pub(crate) async fn post_once(&self, url: &str, callback: &SignedCallback) -> Answer {
        match (&self.http, Url::parse(url)) {
            (Some(http), Ok(url)) => post(http, url, callback, &self.settings).await,
            (None, _) => Answer::Unreachable("no HTTP client".into()),
            (_, Err(_)) => Answer::Unreachable("not a URL".into()),
        }
    }

    fn not_sent(&self, delivery: u64, out: &Outgoing, shown: String, reason: String) {
        tracing::warn!(
            target: "sandbox",
            provider = %out.provider, object = %out.object, url = %shown,
            "callback not sent: {reason}"
        );
        self.report(CallbackEvent {
            at: self.clock.now(),
            delivery,
            provider: out.provider,
            object: out.object.clone(),
            status: out.status.clone(),
            url: shown,
            forwarded: false,
            attempt: 0,
            max_attempts: self.settings.max_attempts,
            outcome: CallbackOutcome::NotSent { reason },
        });
    }

    fn report(&self, event: CallbackEvent) {
        self.recent.record(&event);
        self.events.emit(SandboxEvent::Callback(event));
    }

    async fn deliver(self: Arc<Self>, d: Delivery, _pending: Pending) {
        let Some(http) = self.http.clone() else {
            let reason = "no HTTP client".to_owned();
            return self.not_sent(d.id, &d.out, d.shown.clone(), reason);
        };
        let mut stop = self.stop.subscribe();
        let max = self.settings.max_attempts;
        let event = |attempt: u32, outcome: CallbackOutcome| CallbackEvent {
            at: self.clock.now(),
            delivery: d.id,
            provider: d.out.provider,
            object: d.out.object.clone(),
            status: d.out.status.clone(),
            url: d.shown.clone(),
            forwarded: d.forwarded,
            attempt,
            max_attempts: max,
            outcome,
        };
        for attempt in 1..=max {
            let answer = tokio::select! {
                answer = post(&http, d.url.clone(), &d.out.callback, &self.settings) => answer,
                _ = stop.wait_for(|stopped| *stopped) => return,
            };
            if let Answer::Status(status @ 200..=299) = answer {
                return self.report(event(attempt, CallbackOutcome::Delivered { status }));
            }
            if attempt >= max {
                tracing::warn!(
                    target: "sandbox",
                    provider = %d.out.provider, object = %d.out.object, url = %d.shown,
                    "callback given up after {attempt} attempts: {answer}"
                );
                return self.report(event(attempt, CallbackOutcome::GaveUp { answer }));
            }
            let retry_in = self.settings.retry_after(attempt);
            // Watching the clock before the event goes out: an advance made in answer to
            // it is not missed.
            let waiter = self.clock.waiter();
            let due = chrono::Duration::from_std(retry_in)
                .ok()
                .and_then(|wait| self.clock.now().checked_add_signed(wait));
            self.report(event(
                attempt,
                CallbackOutcome::WillRetry { answer, retry_in },
            ));
            let Some(due) = due else {
                // A wait past the calendar's end: never due.
                return;
            };
            tokio::select! {
                () = waiter.until(due) => {}
                _ = stop.wait_for(|stopped| *stopped) => return,
            }
        }
    }
}

/// One POST: the receiver's status (its body is never read), or why there was none.
async fn post(
    http: &reqwest::Client,
    url: Url,
    callback: &SignedCallback,
    settings: &CallbackSettings,
) -> Answer {
    let mut request = http.post(url).body(callback.body.clone());
    for (name, value) in &callback.headers {
        request = request.header(name, value);
    }
    match request.send().await {
        Ok(response) => Answer::Status(response.status().as_u16()),
        Err(e) => Answer::Unreachable(unreachable(&e, settings)),
    }
}

/// Why a receiver gave no answer, in a few words (never its URL).
fn unreachable(e: &reqwest::Error, settings: &CallbackSettings) -> String {
    if e.is_timeout() {
        return format!(
            "no answer within {} s",
            settings.attempt_timeout.as_secs_f64()
        );
    }
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            return match io.kind() {
                std::io::ErrorKind::ConnectionRefused => "connection refused".into(),
                std::io::ErrorKind::ConnectionReset => "connection reset".into(),
                kind => format!("cannot connect ({kind})"),
            };
        }
        source = cause.source();
    }
    if e.is_connect() {
        "cannot connect".into()
    } else {
        "the connection failed before an answer".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_bounds_callbacks_and_bytes_and_is_given_back() {
        let budget = Arc::new(Budget::default());
        let big = budget.take(MAX_PENDING_BYTES).expect("room for one");
        assert!(budget.take(1).is_err(), "no byte left");
        drop(big);
        let held: Vec<Pending> = (0..MAX_PENDING)
            .map(|_| budget.take(1).expect("room"))
            .collect();
        assert!(budget.take(1).is_err(), "no callback left");
        drop(held);
        assert_eq!(budget.callbacks.load(Ordering::Relaxed), 0);
        assert_eq!(budget.bytes.load(Ordering::Relaxed), 0);
    }
}
