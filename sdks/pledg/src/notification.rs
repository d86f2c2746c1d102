//! Inbound notifications. When the merchant has a secret key, Pledg posts
//! `{"signature": <jwt>}`: an HS256 JWT signed with that key whose claims
//! are the event (older docs). [`NotificationVerifier::verify`] checks it
//! and returns a typed [`Notification`] or a typed [`CallbackError`].

use std::time::{Duration, SystemTime};

use auth_runtime::Secret;
use auth_runtime::provider::signing::{self, CallbackError, MAX_CALLBACK_BYTES, ReplayGuard};
use serde_json::{Map, Value};

/// A verified notification. `id`, `reference` and `status` are read from
/// the claims when present (their names are OUR ASSUMPTION from the
/// purchase fields); every claim stays available in `claims`.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub id: Option<String>,
    pub reference: Option<String>,
    pub status: Option<String>,
    pub claims: Map<String, Value>,
}

/// Verifies notifications with the merchant's secret key; refuses
/// unsigned, tampered, expired (`exp` passed), too old (`iat` older than
/// `max_age`) and replayed ones (the same signature twice).
///
/// The pages say the JWT *may* carry an expiry: a signed notification with
/// neither `exp` nor `iat` is accepted (replays are still refused), unless
/// [`NotificationVerifier::max_age`] was set, which asks every
/// notification without `exp` to prove its age with `iat`.
#[derive(Debug)]
pub struct NotificationVerifier {
    secret: Secret,
    max_age: Duration,
    /// `max_age` was set: a notification without `exp` must carry `iat`.
    require_age: bool,
    replays: ReplayGuard,
}

/// Default age limit of a notification without `exp` (by its `iat`).
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(24 * 3600);

impl NotificationVerifier {
    pub fn new(secret: Secret) -> Self {
        NotificationVerifier {
            secret,
            max_age: DEFAULT_MAX_AGE,
            require_age: false,
            replays: ReplayGuard::default(),
        }
    }

    /// Refuse notifications whose `iat` is older than `max_age`, and those
    /// with neither `exp` nor `iat` (their age cannot be told).
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self.require_age = true;
        self
    }

    /// Check the raw body (headers are not used by Pledg's scheme) at `now`.
    pub fn verify(
        &self,
        body: &[u8],
        _headers: &reqwest::header::HeaderMap,
        now: SystemTime,
    ) -> Result<Notification, CallbackError> {
        if body.len() > MAX_CALLBACK_BYTES {
            return Err(CallbackError::Malformed);
        }
        let outer: Value = serde_json::from_slice(body).map_err(|_| CallbackError::Malformed)?;
        let token = match outer.get("signature") {
            Some(Value::String(t)) if !t.is_empty() => t,
            None | Some(Value::Null) => return Err(CallbackError::Unsigned),
            Some(Value::String(_)) => return Err(CallbackError::Unsigned),
            Some(_) => return Err(CallbackError::Malformed),
        };
        let claims = signing::verify_hs256_jwt(&self.secret, token, now, false)?;
        if !claims.contains_key("exp") {
            match claims.get("iat") {
                Some(iat) => {
                    let iat = iat.as_u64().ok_or(CallbackError::Malformed)?;
                    let now_secs = now
                        .duration_since(SystemTime::UNIX_EPOCH)
                        .map(|d| d.as_secs())
                        .unwrap_or(0);
                    if now_secs.saturating_sub(iat) > self.max_age.as_secs() {
                        return Err(CallbackError::Expired);
                    }
                }
                None if self.require_age => return Err(CallbackError::Expired),
                None => {}
            }
        }
        // The signature part identifies the notification for replays.
        let signature = token.rsplit('.').next().unwrap_or(token);
        if !self.replays.first_time(signature) {
            return Err(CallbackError::Replayed);
        }
        let text = |k: &str| claims.get(k).and_then(Value::as_str).map(str::to_owned);
        Ok(Notification {
            id: text("id").or_else(|| text("uid")),
            reference: text("reference"),
            status: text("status"),
            claims,
        })
    }
}
