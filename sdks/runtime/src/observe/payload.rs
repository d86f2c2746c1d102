//! What the events of a call and of a token fetch carry: plain data, no
//! behaviour, so that every sink — and the per-call trace state — can
//! name it without importing the [`Observe`](super::events::Observe)
//! trait.

use std::sync::Arc;

use reqwest::{Request, Response};

use crate::base::error::Error;
use crate::base::security::OperationSecurity;
use crate::base::time::Clock;

/// Which attempt of which call an event is about.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Attempt<'a> {
    pub(crate) provider: &'static str,
    pub(crate) operation: &'a str,
    /// 1 for the first attempt.
    pub(crate) number: u32,
}

/// Why a call sends its request again after waiting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RetryReason {
    /// A transient status (408, 429, 5xx but 501).
    Status(u16),
    /// The attempt timed out.
    Timeout,
    /// The connection failed or broke.
    Connection,
}

/// Why an attempt is a resend.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Resend {
    /// The previous attempt's bearer was refused (401) and renewed.
    Renewal,
    /// The previous attempt failed transiently; the call waited.
    Retry(RetryReason),
}

/// Why a token fetch runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reason {
    Missing,
    Expired,
    Proactive,
    Unauthorized,
}

impl Reason {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Reason::Missing => "missing",
            Reason::Expired => "expired",
            Reason::Proactive => "proactive",
            Reason::Unauthorized => "unauthorized",
        }
    }
}

/// A call about to start (its credentials not on yet).
#[derive(Clone, Copy)]
#[cfg_attr(not(feature = "otel"), allow(dead_code))]
pub(crate) struct CallStart<'a> {
    pub(crate) provider: &'static str,
    pub(crate) security: &'a OperationSecurity,
    /// The request as built (its method, URL).
    pub(crate) request: &'a Request,
    /// A call of the provider's token endpoint, made by a token fetch:
    /// its attempts belong to the fetch, not to an operation of its own.
    pub(crate) token_call: bool,
    /// The session's clock: every duration of the call is read on it.
    pub(crate) clock: &'a Arc<dyn Clock>,
}

/// What an attempt came back with.
#[derive(Clone, Copy)]
#[cfg_attr(not(feature = "otel"), allow(dead_code))]
pub(crate) enum Answered<'a> {
    /// A response (its head: status, version).
    Response(&'a Response),
    /// No response: the transport failed.
    Failed(&'a reqwest::Error),
}

impl<'a> From<&'a reqwest::Result<Response>> for Answered<'a> {
    fn from(result: &'a reqwest::Result<Response>) -> Self {
        match result {
            Ok(resp) => Answered::Response(resp),
            Err(e) => Answered::Failed(e),
        }
    }
}

/// How a call ended.
#[derive(Clone, Copy)]
#[cfg_attr(not(feature = "otel"), allow(dead_code))]
pub(crate) enum CallEnd<'a> {
    /// The caller gets this response.
    Response(&'a Response),
    /// The transport failed, retries spent.
    Failed(&'a reqwest::Error),
    /// No request was sent: no credential could be put on it.
    Refused(&'a Error),
}
