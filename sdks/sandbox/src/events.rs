//! What the sandbox did, for whoever watches ([`crate::Sandbox::subscribe`]): one
//! [`SandboxEvent`] per request it answered and per callback attempt it made. `payauth
//! sandbox` prints them; tests wait on them (a callback's retry is due when the event says).
//!
//! Nothing here carries a secret: request paths without their query (pledg's signed URL
//! stays out), callback URLs without user information or query, no bodies, no headers.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::broadcast;

use crate::provider::Provider;
use crate::route::Route;

/// Events a slow subscriber may fall behind by before it loses the oldest
/// (`broadcast::error::RecvError::Lagged`): memory stays bounded whoever watches.
pub const EVENT_BUFFER: usize = 1024;

/// One thing the sandbox did.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum SandboxEvent {
    /// A request an emulated provider answered.
    Request(RequestEvent),
    /// An attempt at delivering a callback (or the refusal to try).
    Callback(CallbackEvent),
}

/// A request an emulated provider answered.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct RequestEvent {
    /// Sandbox time.
    pub at: DateTime<Utc>,
    /// The HTTP method (`POST`).
    pub method: String,
    /// The path, without its query.
    pub path: String,
    /// The provider whose prefix the path is under.
    pub provider: Provider,
    /// Which of its routes answered.
    pub route: Route,
    /// The status sent; `None` when an injected fault dropped the connection.
    pub status: Option<u16>,
    /// What the provider decided, in a few words: `token expired`, `replayed requestId`,
    /// `created txn_100001`, `injected fault: HTTP 503`, …
    pub decision: Option<String>,
}

/// One attempt (or the refusal to try) at delivering a provider's callback.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct CallbackEvent {
    /// Sandbox time.
    pub at: DateTime<Utc>,
    /// Numbers the callbacks of one sandbox, from 1: every attempt of one callback shares it.
    pub delivery: u64,
    /// The provider whose callback it is.
    pub provider: Provider,
    /// What it is about: exirom's `transactionId`, axept's `uti`, pledg's purchase `uid`.
    pub object: String,
    /// The status it reports (`APPROVED`, `Complete`, `completed`, …).
    pub status: String,
    /// Where it went, without user information or query.
    pub url: String,
    /// Sent to the forwarding URL rather than the one the request named.
    pub forwarded: bool,
    /// This attempt, from 1 (0 when nothing was sent).
    pub attempt: u32,
    /// The attempts allowed in all ([`crate::CallbackSettings`]).
    pub max_attempts: u32,
    /// How this attempt ended.
    pub outcome: CallbackOutcome,
}

/// How one attempt ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum CallbackOutcome {
    /// The receiver answered 2xx: done.
    Delivered {
        /// The receiver's 2xx status.
        status: u16,
    },
    /// Not acknowledged; the next attempt is due `retry_in_ms` later on the sandbox clock
    /// ([`crate::Sandbox::advance_clock`] brings it forward).
    WillRetry {
        /// What the receiver did.
        answer: Answer,
        /// The wait before the next attempt (sandbox time).
        #[serde(rename = "retry_in_ms", with = "millis")]
        retry_in: Duration,
    },
    /// Not acknowledged by the last allowed attempt: the sandbox stops trying.
    GaveUp {
        /// What the receiver did with the last attempt.
        answer: Answer,
    },
    /// Never sent, e.g. a URL off this machine with no forwarding URL set.
    NotSent {
        /// Why, in words.
        reason: String,
    },
}

/// What the receiver did with an attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Answer {
    /// It answered with this status.
    Status(u16),
    /// No answer: refused connection, timeout, broken transport (described).
    Unreachable(String),
}

mod millis {
    use std::time::Duration;

    use serde::Serializer;

    pub(super) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }
}

impl fmt::Display for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Answer::Status(s) => write!(f, "HTTP {s}"),
            Answer::Unreachable(why) => f.write_str(why),
        }
    }
}

/// One line: `POST /exirom/api/v1/payments/card exirom card_payment → 200: created txn_100001`.
impl fmt::Display for RequestEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {} → ",
            self.method, self.path, self.provider, self.route
        )?;
        match self.status {
            Some(s) => write!(f, "{s}")?,
            None => f.write_str("connection dropped")?,
        }
        match &self.decision {
            Some(d) => write!(f, ": {d}"),
            None => Ok(()),
        }
    }
}

/// One line: `callback exirom txn_100001 APPROVED → http://127.0.0.1:3000/hook: HTTP 200, delivered (attempt 1/6)`.
impl fmt::Display for CallbackEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "callback {} {} {} → {}{}: ",
            self.provider,
            self.object,
            self.status,
            self.url,
            if self.forwarded { " (forwarded)" } else { "" }
        )?;
        let (n, max) = (self.attempt, self.max_attempts);
        match &self.outcome {
            CallbackOutcome::Delivered { status } => {
                write!(f, "HTTP {status}, delivered (attempt {n}/{max})")
            }
            CallbackOutcome::WillRetry { answer, retry_in } => write!(
                f,
                "{answer}, retry in {} (attempt {n}/{max})",
                human(*retry_in)
            ),
            CallbackOutcome::GaveUp { answer } => {
                write!(f, "{answer}, gave up after {n} attempts")
            }
            CallbackOutcome::NotSent { reason } => write!(f, "not sent: {reason}"),
        }
    }
}

impl fmt::Display for SandboxEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SandboxEvent::Request(r) => r.fmt(f),
            SandboxEvent::Callback(c) => c.fmt(f),
        }
    }
}

/// `1.5s`, `2s`, `250ms`.
fn human(d: Duration) -> String {
    if d.as_millis() < 1000 {
        format!("{}ms", d.as_millis())
    } else if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

/// Hands every event to every subscriber; nobody subscribed costs a failed send.
#[derive(Debug)]
pub(crate) struct EventBus(broadcast::Sender<SandboxEvent>);

impl EventBus {
    pub(crate) fn new() -> Self {
        EventBus(broadcast::Sender::new(EVENT_BUFFER))
    }

    pub(crate) fn emit(&self, event: SandboxEvent) {
        tracing::debug!(target: "sandbox", "{event}");
        // No subscriber is no error.
        let _ = self.0.send(event);
    }

    pub(crate) fn subscribe(&self) -> broadcast::Receiver<SandboxEvent> {
        self.0.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn callback(outcome: CallbackOutcome) -> CallbackEvent {
        CallbackEvent {
            at: DateTime::UNIX_EPOCH,
            delivery: 1,
            provider: Provider::named("exirom"),
            object: "txn_100001".into(),
            status: "APPROVED".into(),
            url: "http://127.0.0.1:3000/hook".into(),
            forwarded: false,
            attempt: 2,
            max_attempts: 6,
            outcome,
        }
    }

    #[test]
    fn each_event_is_one_readable_line() {
        let retry = callback(CallbackOutcome::WillRetry {
            answer: Answer::Status(503),
            retry_in: Duration::from_secs(2),
        });
        assert_eq!(
            retry.to_string(),
            "callback exirom txn_100001 APPROVED → http://127.0.0.1:3000/hook: HTTP 503, retry in 2s (attempt 2/6)"
        );
        let json = serde_json::to_value(SandboxEvent::Callback(retry)).unwrap();
        assert_eq!(json["event"], "callback");
        assert_eq!(json["outcome"]["kind"], "will_retry");
        assert_eq!(json["outcome"]["retry_in_ms"], 2000);
        assert_eq!(json["outcome"]["answer"]["status"], 503);
        let gave_up = callback(CallbackOutcome::GaveUp {
            answer: Answer::Unreachable("connection refused".into()),
        });
        assert!(
            gave_up
                .to_string()
                .ends_with("connection refused, gave up after 2 attempts")
        );
        let request = RequestEvent {
            at: DateTime::UNIX_EPOCH,
            method: "GET".into(),
            path: "/exirom/api/sandbox/protected".into(),
            provider: Provider::named("exirom"),
            route: Route::Protected,
            status: Some(401),
            decision: Some("token expired".into()),
        };
        assert_eq!(
            request.to_string(),
            "GET /exirom/api/sandbox/protected exirom protected → 401: token expired"
        );
        assert_eq!(human(Duration::from_millis(1500)), "1.5s");
        assert_eq!(human(Duration::from_millis(250)), "250ms");
    }
}
