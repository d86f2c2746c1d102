//! What a provider's handler answers: [`Reply`], before the wire-level faults apply.

use axum::http::{HeaderName, HeaderValue, StatusCode};
use bytes::Bytes;
use serde_json::Value;

/// Body of a reply.
#[derive(Debug, Clone)]
pub(crate) enum ReplyBody {
    Json(Value),
    Raw {
        content_type: &'static str,
        bytes: Bytes,
    },
}

/// Side effects a reply reports to the counters, and what was decided (for the events).
#[derive(Debug, Clone, Default)]
pub(crate) struct Outcome {
    pub login_identity: Option<Box<str>>,
    pub refreshed: bool,
    pub authenticated: bool,
    /// In a few words, never a secret: `token expired`, `replayed requestId`, …
    pub decision: Option<Box<str>>,
}

/// A provider's answer, before faults that alter the wire format are applied.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub status: StatusCode,
    pub body: ReplyBody,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub outcome: Outcome,
}

impl Reply {
    pub(crate) fn json(status: StatusCode, v: Value) -> Reply {
        Reply {
            status,
            body: ReplyBody::Json(v),
            headers: Vec::new(),
            outcome: Outcome::default(),
        }
    }
    pub(crate) fn ok(v: Value) -> Reply {
        Reply::json(StatusCode::OK, v)
    }
    pub(crate) fn raw(
        status: StatusCode,
        content_type: &'static str,
        bytes: impl Into<Bytes>,
    ) -> Reply {
        Reply {
            status,
            body: ReplyBody::Raw {
                content_type,
                bytes: bytes.into(),
            },
            headers: Vec::new(),
            outcome: Outcome::default(),
        }
    }
    pub(crate) fn header(mut self, name: HeaderName, value: &str) -> Reply {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.push((name, v));
        }
        self
    }
    pub(crate) fn login(mut self, identity: &str) -> Reply {
        self.outcome.login_identity = Some(identity.into());
        self
    }
    pub(crate) fn refreshed(mut self) -> Reply {
        self.outcome.refreshed = true;
        self
    }
    pub(crate) fn authenticated(mut self) -> Reply {
        self.outcome.authenticated = true;
        self
    }
    /// What was decided, for the request's event (the first decision stays).
    pub(crate) fn decided(mut self, decision: impl Into<String>) -> Reply {
        if self.outcome.decision.is_none() {
            self.outcome.decision = Some(decision.into().into_boxed_str());
        }
        self
    }
}
