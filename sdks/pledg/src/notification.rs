//! Inbound notifications. When the merchant has a secret key, Pledg posts
//! `{"signature": <jwt>}`: an HS256 JWT signed with that key whose claims
//! are the event (older docs). [`NotificationVerifier::verify`] checks it
//! and returns a typed [`Notification`] or a typed [`CallbackError`].

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use payauth_runtime::provider::replay::SharedReplayGuard;
use payauth_runtime::provider::signing::{self, CallbackError, MAX_CALLBACK_BYTES};
use payauth_runtime::{Secret, SeenKeys};
use serde_json::{Map, Value};

/// A verified notification. `id`, `reference` and `status` are read from
/// the claims when present (their names are OUR ASSUMPTION from the
/// purchase fields); every claim stays available in `claims`.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// The purchase's id: the `id` claim, else `uid`.
    pub id: Option<String>,
    /// The merchant's reference of the purchase (`reference` claim).
    pub reference: Option<String>,
    /// The purchase's status (`status` claim).
    pub status: Option<String>,
    /// Every claim of the verified JWT (`exp` and `iat` included).
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
///
/// Where replays are remembered: [`NotificationVerifier::verify`] in this
/// process's memory (bounded at 10,000; forgotten on a restart; not seen by
/// other instances — `exp` and `max_age` still bound how old an accepted
/// replay can be). [`NotificationVerifier::verify_shared`] in the shared
/// store when one is set ([`NotificationVerifier::replay_store`], or the
/// environment's Redis store with `payauth-runtime`'s `redis` feature): exactly
/// one process of a fleet accepts a notification.
#[derive(Debug)]
pub struct NotificationVerifier {
    secret: Secret,
    max_age: Duration,
    /// `max_age` was set: a notification without `exp` must carry `iat`.
    require_age: bool,
    replays: SharedReplayGuard,
}

/// The namespace of pledg's notifications in a shared store of seen ones.
const REPLAY_NAMESPACE: &str = "pledg";

/// Default age limit of a notification without `exp` (by its `iat`).
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(24 * 3600);

impl NotificationVerifier {
    /// A verifier with the merchant's secret key: notifications without
    /// `exp` or `iat` accepted, `iat` at most one day old, replays kept in
    /// memory, and in the environment's shared store for
    /// [`NotificationVerifier::verify_shared`] when it configures one.
    pub fn new(secret: Secret) -> Self {
        NotificationVerifier {
            secret,
            max_age: DEFAULT_MAX_AGE,
            require_age: false,
            replays: SharedReplayGuard::new(REPLAY_NAMESPACE),
        }
    }

    /// Remember notifications in `store` (for
    /// [`NotificationVerifier::verify_shared`]), e.g. an
    /// `payauth_runtime::redis_store::RedisStore` shared by the fleet.
    pub fn replay_store(mut self, store: Arc<dyn SeenKeys>) -> Self {
        self.replays = self.replays.with_store(store);
        self
    }

    /// In memory only, even when the environment configures a store.
    pub fn replays_in_memory(mut self) -> Self {
        self.replays = SharedReplayGuard::in_memory(REPLAY_NAMESPACE);
        self
    }

    /// How long the shared store remembers a notification (default 30
    /// days, `payauth_runtime::provider::replay::DEFAULT_SEEN_TTL`).
    pub fn replay_ttl(mut self, ttl: Duration) -> Self {
        self.replays = self.replays.ttl(ttl);
        self
    }

    /// Whether [`NotificationVerifier::verify_shared`] uses a shared store.
    pub fn is_shared(&self) -> bool {
        self.replays.is_shared()
    }

    /// Refuse notifications whose `iat` is older than `max_age`, and those
    /// with neither `exp` nor `iat` (their age cannot be told).
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self.require_age = true;
        self
    }

    /// Check the raw body (headers are not used by Pledg's scheme) at
    /// `now`; refuse a replay to this process (memory).
    ///
    /// # Errors
    ///
    /// [`CallbackError::Unsigned`]: no `signature`;
    /// [`CallbackError::BadSignature`]: it does not verify with the key;
    /// [`CallbackError::Expired`]: `exp` passed, or `iat` too old (or
    /// missing, with [`max_age`](NotificationVerifier::max_age) set);
    /// [`CallbackError::Malformed`]: not the documented JSON, or over
    /// 64 KiB; [`CallbackError::NoSecret`]: an empty secret key;
    /// [`CallbackError::Replayed`]: accepted before.
    pub fn verify(
        &self,
        body: &[u8],
        _headers: &reqwest::header::HeaderMap,
        now: SystemTime,
    ) -> Result<Notification, CallbackError> {
        self.replays.admit(self.authentic(body, now)?)
    }

    /// [`NotificationVerifier::verify`], with replays refused across the
    /// fleet through the shared store when one is set (else in memory).
    ///
    /// # Errors
    ///
    /// As [`NotificationVerifier::verify`], and
    /// [`CallbackError::ReplayCheckUnavailable`] when the store cannot
    /// answer: answer the sender 503 so that it tries again.
    pub async fn verify_shared(
        &self,
        body: &[u8],
        _headers: &reqwest::header::HeaderMap,
        now: SystemTime,
    ) -> Result<Notification, CallbackError> {
        self.replays.admit_shared(self.authentic(body, now)?).await
    }

    /// The notification if it verifies at `now`, and its replay identity.
    fn authentic(
        &self,
        body: &[u8],
        now: SystemTime,
    ) -> Result<(Notification, String), CallbackError> {
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
        let signature = token.rsplit('.').next().unwrap_or(token).to_owned();
        let text = |k: &str| claims.get(k).and_then(Value::as_str).map(str::to_owned);
        let notification = Notification {
            id: text("id").or_else(|| text("uid")),
            reference: text("reference"),
            status: text("status"),
            claims,
        };
        Ok((notification, signature))
    }
}
