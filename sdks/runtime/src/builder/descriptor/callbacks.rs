//! A provider's callbacks as tools see them ([`Callbacks`]): how one is
//! verified (`payauth verify-callback`), and what a sandbox can be made to
//! call back about (`payauth sandbox trigger`: a [`CallbackEvent`], whose
//! object the provider's [`Described::trigger`](super::Described::trigger)
//! creates with its typed client).

use std::fmt;
use std::time::SystemTime;

use reqwest::header::HeaderMap;
use serde_json::Value;

use super::variables::Values;
use crate::base::secret::Secret;
use crate::call::signing::CallbackError;

/// A provider's callbacks: see the module's documentation.
#[derive(Debug, Clone, Copy)]
pub struct Callbacks {
    /// How a callback is verified, when the provider signs its callbacks.
    pub verifier: Option<Verifier>,
    /// What a sandbox can be made to call back about, in the order tools
    /// list them.
    pub events: &'static [CallbackEvent],
    /// Values a trigger needs that a sandbox's control plane gives with its
    /// signing material (`GET /__sandbox/signing`) rather than with the
    /// credentials: `(that answer's field, the value's name)`, the name a
    /// [`Variable::sandbox_field`](super::Variable::sandbox_field) or the
    /// provider's trigger reads from the [`Values`].
    pub sandbox_signing: &'static [(&'static str, &'static str)],
}

impl Callbacks {
    /// The event called `name`.
    pub fn event(&self, name: &str) -> Option<&'static CallbackEvent> {
        self.events.iter().find(|e| e.name == name)
    }
}

/// A callback's check: the secret, the raw body, the headers and the time
/// now, to the callback's facts as JSON (what `payauth verify-callback`
/// prints), or why it is not genuine.
pub type VerifyFn = fn(Secret, &[u8], &HeaderMap, SystemTime) -> Result<Value, CallbackError>;

/// How a provider's callbacks are verified.
#[derive(Clone, Copy)]
pub struct Verifier {
    /// What carries the signature, in words (`` `X-Checksum` ``).
    pub signature: &'static str,
    /// The variables that may hold the secret callbacks are signed with;
    /// the first that is set wins.
    pub secret_variables: &'static [&'static str],
    /// The check.
    pub verify: VerifyFn,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("signature", &self.signature)
            .field("secret_variables", &self.secret_variables)
            .finish_non_exhaustive()
    }
}

/// Something a sandbox can be made to call back about: an object created
/// there, whose callback it then sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallbackEvent {
    /// The event's name (`payment`), unique among the provider's.
    pub name: &'static str,
    /// What is created, in a few words (`a card payment (its status
    /// callback)`).
    pub about: &'static str,
    /// Statuses the object may then be moved to (a second callback), as
    /// examples: the sandbox takes any the provider documents.
    pub statuses: &'static [&'static str],
    /// The status the object is moved to when none is asked for.
    pub default_status: Option<&'static str>,
    /// Why the object cannot be moved to a status, when it cannot
    /// (`transactions change by their signature decision`).
    pub status_fixed_reason: Option<&'static str>,
    /// The request's field naming the callback URL, when the provider
    /// takes only an https URL there (a local application is reached
    /// through the sandbox's forwarding instead).
    pub https_only: Option<&'static str>,
}

impl CallbackEvent {
    /// An event whose object is not moved to another status by default.
    pub const fn new(name: &'static str, about: &'static str) -> CallbackEvent {
        CallbackEvent {
            name,
            about,
            statuses: &[],
            default_status: None,
            status_fixed_reason: None,
            https_only: None,
        }
    }
    /// Example statuses the object may be moved to.
    pub const fn statuses(mut self, statuses: &'static [&'static str]) -> CallbackEvent {
        self.statuses = statuses;
        self
    }
    /// The object is moved to `status` when none is asked for.
    pub const fn default_status(mut self, status: &'static str) -> CallbackEvent {
        self.default_status = Some(status);
        self
    }
    /// The object's status changes otherwise, for `reason`.
    pub const fn status_fixed(mut self, reason: &'static str) -> CallbackEvent {
        self.status_fixed_reason = Some(reason);
        self
    }
    /// The request's `field` takes only an https callback URL.
    pub const fn https_only(mut self, field: &'static str) -> CallbackEvent {
        self.https_only = Some(field);
        self
    }
}

/// What a trigger asks of a provider: create the object of `event` in a
/// sandbox, naming `callback_url`.
#[derive(Debug, Clone, Copy)]
pub struct TriggerRequest<'a> {
    /// One of the provider's events.
    pub event: &'a CallbackEvent,
    /// The URL the provider is to call back.
    pub callback_url: &'a str,
    /// The sandbox's values (see [`Values`]).
    pub values: &'a Values,
    /// A number unique to this request: request ids made from it repeat
    /// no earlier run's.
    pub nonce: u128,
}

/// The object a trigger created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Triggered {
    /// Its id, as the sandbox's callbacks name it.
    pub object: String,
    /// Its status, as the sandbox's first callback reports it.
    pub status: String,
}
