//! Faults injected into the emulated providers' answers: [`Fault`] (one request),
//! [`FaultMix`] (random, at a rate) and the [`RetryAfter`] header they may carry.

use std::time::{Duration, SystemTime};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::SandboxError;

/// Value of an injected `Retry-After` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryAfter {
    /// `Retry-After: 3`
    Seconds(u64),
    /// `Retry-After: Wed, 21 Oct 2015 07:28:00 GMT`
    HttpDate(SystemTime),
}

impl RetryAfter {
    /// The header's value: the seconds, or the date in HTTP format.
    pub fn header_value(&self) -> String {
        match self {
            RetryAfter::Seconds(s) => s.to_string(),
            RetryAfter::HttpDate(t) => httpdate::fmt_http_date(*t),
        }
    }
}

/// JSON: a number is `Seconds`, a string is an HTTP date.
impl Serialize for RetryAfter {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            RetryAfter::Seconds(n) => s.serialize_u64(*n),
            RetryAfter::HttpDate(_) => s.serialize_str(&self.header_value()),
        }
    }
}

impl<'de> Deserialize<'de> for RetryAfter {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Num(u64),
            Str(String),
        }
        match Raw::deserialize(d)? {
            Raw::Num(n) => Ok(RetryAfter::Seconds(n)),
            Raw::Str(s) => {
                if let Ok(n) = s.trim().parse::<u64>() {
                    return Ok(RetryAfter::Seconds(n));
                }
                httpdate::parse_http_date(&s)
                    .map(RetryAfter::HttpDate)
                    .map_err(|e| serde::de::Error::custom(format!("invalid HTTP date `{s}`: {e}")))
            }
        }
    }
}

/// A misbehaviour injected into exactly one subsequent request of a (provider, route).
///
/// Faults are queued FIFO per (provider, route). How each field acts:
/// - `latency`: the sandbox waits this long (real time) before doing anything else.
/// - `drop_connection`: the TCP connection is closed without any response; the request is not
///   processed.
/// - `status`: the request is not processed; the answer is this status with a body in the
///   provider's own error format (plus `Retry-After` / `retry-after-ms` when set).
/// - `malformed_body`: the request is not processed; the answer is 200 with a body that is not
///   JSON (though labelled `application/json`).
/// - `truncated_body`: the request IS processed (a token is issued and counted), but the
///   response declares a `Content-Length` larger than the bytes sent, then the connection closes.
/// - `wrong_content_type`: the request IS processed; the response keeps status and body but is
///   labelled `text/html; charset=utf-8`.
/// - `token_without_exp` / `expired_token`: the request is processed; the token it issues lacks
///   `exp` / is already expired at issue (`iat` = now - lifetime - 60 s). Body expiry fields stay
///   consistent with the server's view (for an expired token they lie in the past).
/// - `respond_after`: the request is processed, then the answer is delayed.
/// - `retry_after` / `retry_after_ms` alone (no status) add headers to the normal response.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Fault {
    /// Answer with this status, unprocessed (default: none).
    pub status: Option<u16>,
    /// A `Retry-After` header on the answer (default: none).
    pub retry_after: Option<RetryAfter>,
    /// A `retry-after-ms` header on the answer, in milliseconds (default:
    /// none).
    pub retry_after_ms: Option<u64>,
    /// Wait this long (real time) before anything else (default: none).
    #[serde(rename = "latency_ms", with = "crate::duration_ms")]
    pub latency: Option<Duration>,
    /// Close the connection without an answer, unprocessed.
    pub drop_connection: bool,
    /// Process the request, then send fewer bytes than `Content-Length`
    /// says and close.
    pub truncated_body: bool,
    /// Answer 200 with a body that is not JSON, unprocessed.
    pub malformed_body: bool,
    /// Process the request; label the answer `text/html`.
    pub wrong_content_type: bool,
    /// Process the request; the token issued has no `exp`.
    pub token_without_exp: bool,
    /// Process the request; the token issued is already expired.
    pub expired_token: bool,
    /// The request IS processed (to completion, even if the client gives
    /// up), then the answer waits this long: a client timeout after the
    /// side effect, the case idempotency keys exist for.
    #[serde(rename = "respond_after_ms", with = "crate::duration_ms")]
    pub respond_after: Option<Duration>,
}

impl Fault {
    /// Answer with this HTTP status (body in the provider's error format).
    pub fn status(status: u16) -> Fault {
        Fault {
            status: Some(status),
            ..Fault::default()
        }
    }
    /// Close the connection without a response.
    pub fn drop_connection() -> Fault {
        Fault {
            drop_connection: true,
            ..Fault::default()
        }
    }
    /// Process the request, then wait `d` before answering.
    pub fn respond_after(d: Duration) -> Fault {
        Fault {
            respond_after: Some(d),
            ..Fault::default()
        }
    }
    /// Wait `d` (real time), then process the request normally.
    pub fn latency(d: Duration) -> Fault {
        Fault {
            latency: Some(d),
            ..Fault::default()
        }
    }
    /// Process the request; cut its answer short of its `Content-Length`.
    pub fn truncated_body() -> Fault {
        Fault {
            truncated_body: true,
            ..Fault::default()
        }
    }
    /// Answer 200 with a body that is not JSON; the request is not
    /// processed.
    pub fn malformed_body() -> Fault {
        Fault {
            malformed_body: true,
            ..Fault::default()
        }
    }
    /// Process the request; label the answer `text/html`.
    pub fn wrong_content_type() -> Fault {
        Fault {
            wrong_content_type: true,
            ..Fault::default()
        }
    }
    /// Process the request; issue a token without `exp`.
    pub fn token_without_exp() -> Fault {
        Fault {
            token_without_exp: true,
            ..Fault::default()
        }
    }
    /// Process the request; issue a token that is already expired.
    pub fn expired_token() -> Fault {
        Fault {
            expired_token: true,
            ..Fault::default()
        }
    }

    /// Builder: set the status.
    pub fn with_status(mut self, status: u16) -> Fault {
        self.status = Some(status);
        self
    }
    /// Builder: `Retry-After: <secs>`.
    pub fn retry_after_secs(mut self, secs: u64) -> Fault {
        self.retry_after = Some(RetryAfter::Seconds(secs));
        self
    }
    /// Builder: `Retry-After: <HTTP date>`.
    pub fn retry_after_date(mut self, at: SystemTime) -> Fault {
        self.retry_after = Some(RetryAfter::HttpDate(at));
        self
    }
    /// Builder: `retry-after-ms: <ms>`.
    pub fn retry_after_ms(mut self, ms: u64) -> Fault {
        self.retry_after_ms = Some(ms);
        self
    }
    /// Builder: add latency.
    pub fn with_latency(mut self, d: Duration) -> Fault {
        self.latency = Some(d);
        self
    }
}

/// Random faults on one (provider, route): each request not already given a queued fault
/// draws, with probability `rate`, one of `faults` (uniformly). The draws come from an RNG
/// seeded with `seed` (mixed with the provider and route), so a run of sequential requests is
/// reproducible. JSON: `{"rate": 0.05, "seed": 7, "faults": [{"status": 503}, ...]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultMix {
    /// Probability, in `0.0..=1.0`, that a request gets a fault.
    pub rate: f64,
    /// The faults drawn from, each equally likely.
    pub faults: Vec<Fault>,
    /// The draws' seed (default 0): the same seed, the same faults for
    /// the same sequence of requests.
    #[serde(default)]
    pub seed: u64,
}

impl FaultMix {
    /// `faults` at `rate` (seed 0).
    pub fn new(rate: f64, faults: Vec<Fault>) -> FaultMix {
        FaultMix {
            rate,
            faults,
            seed: 0,
        }
    }

    /// Builder: the RNG seed.
    pub fn seed(mut self, seed: u64) -> FaultMix {
        self.seed = seed;
        self
    }

    pub(crate) fn validate(&self) -> Result<(), SandboxError> {
        if !(0.0..=1.0).contains(&self.rate) {
            return Err(SandboxError::InvalidConfig(format!(
                "fault mix rate must be within 0..=1, not {}",
                self.rate
            )));
        }
        if self.faults.is_empty() && self.rate > 0.0 {
            return Err(SandboxError::InvalidConfig(
                "a fault mix with a rate above 0 needs at least one fault".into(),
            ));
        }
        Ok(())
    }
}
