//! Replay protection for inbound callbacks, in one process or across a
//! fleet.
//!
//! [`ReplayGuard`](super::signing::ReplayGuard) remembers the ids a process
//! accepted, in memory, bounded (10,000 by default, the oldest forgotten
//! first). That refuses a replay to the same process while it runs — not
//! after it restarts, not after the id was pushed out, and not on another
//! instance behind the same load balancer. Exirom's callbacks carry no
//! timestamp, so nothing else stops an old one.
//!
//! [`SharedReplayGuard`] keeps the ids in a shared store ([`SeenKeys`]:
//! Redis with the `redis` feature, `SET NX` with a time to live) when one is
//! configured, so exactly one process of a fleet accepts a callback.
//! Without a store it is the in-memory guard.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;

use super::signing::{CallbackError, ReplayGuard};
use crate::base::error::Error;

/// How long a shared store remembers a callback by default: a replay
/// after that is accepted again. Exirom's callbacks carry no timestamp, so
/// this is the whole window; pledg's notifications expire sooner (`exp`,
/// or `iat` and the verifier's `max_age`).
pub const DEFAULT_SEEN_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

/// A store of callback ids seen by a fleet.
pub trait SeenKeys: Send + Sync + fmt::Debug {
    /// Records `id` of `namespace` as seen for `ttl` unless it already is,
    /// in one atomic step: `Ok(true)` for the one caller that recorded it,
    /// `Ok(false)` for every other. An error when the store cannot answer.
    fn first_time<'a>(
        &'a self,
        namespace: &'a str,
        id: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, Error>>;
}

#[cfg(feature = "redis")]
impl SeenKeys for crate::token::redis_store::RedisStore {
    fn first_time<'a>(
        &'a self,
        namespace: &'a str,
        id: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        Box::pin(self.mark_seen(namespace, id, ttl))
    }
}

/// The shared store the environment configures, if any: with the `redis`
/// feature, the Redis store of `AUTH_RUNTIME_REDIS_URL` /
/// `AUTH_RUNTIME_REDIS_KEYS` (the token store's, one connection);
/// without it, none.
pub fn seen_keys_from_env() -> Option<Arc<dyn SeenKeys>> {
    #[cfg(feature = "redis")]
    {
        crate::token::redis_store::store_from_env().map(|s| s as Arc<dyn SeenKeys>)
    }
    #[cfg(not(feature = "redis"))]
    {
        None
    }
}

/// Refuses a callback id seen before: across the fleet through a
/// [`SeenKeys`] store when one is set, in this process's memory otherwise.
pub struct SharedReplayGuard {
    namespace: &'static str,
    local: ReplayGuard,
    store: Option<Arc<dyn SeenKeys>>,
    ttl: Duration,
}

impl fmt::Debug for SharedReplayGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedReplayGuard")
            .field("namespace", &self.namespace)
            .field("shared", &self.store.is_some())
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl SharedReplayGuard {
    /// In memory, with the environment's shared store when it configures
    /// one ([`seen_keys_from_env`]). `namespace` keeps one provider's ids
    /// apart from another's in the store.
    pub fn new(namespace: &'static str) -> Self {
        SharedReplayGuard {
            store: seen_keys_from_env(),
            ..Self::in_memory(namespace)
        }
    }

    /// In this process's memory only, whatever the environment says.
    pub fn in_memory(namespace: &'static str) -> Self {
        SharedReplayGuard {
            namespace,
            local: ReplayGuard::default(),
            store: None,
            ttl: DEFAULT_SEEN_TTL,
        }
    }

    /// Keep the ids in `store`.
    pub fn with_store(mut self, store: Arc<dyn SeenKeys>) -> Self {
        self.store = Some(store);
        self
    }

    /// How long the store remembers an id (default [`DEFAULT_SEEN_TTL`]).
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// Whether the ids go to a shared store.
    pub fn is_shared(&self) -> bool {
        self.store.is_some()
    }

    /// `true` the first time this process sees `id` (memory only, also
    /// when a store is set: for the synchronous path).
    pub fn first_time_here(&self, id: &str) -> bool {
        self.local.first_time(id)
    }

    /// A verified callback and its replay identity: the callback the first
    /// time this process sees the identity (memory only, as
    /// [`SharedReplayGuard::first_time_here`]), else
    /// [`CallbackError::Replayed`]. The last step of a synchronous `verify`.
    ///
    /// # Errors
    ///
    /// [`CallbackError::Replayed`] when this process saw `id` before.
    pub fn admit<T>(&self, (callback, id): (T, String)) -> Result<T, CallbackError> {
        if self.first_time_here(&id) {
            Ok(callback)
        } else {
            Err(CallbackError::Replayed)
        }
    }

    /// [`SharedReplayGuard::admit`] through the fleet's store when one is
    /// set ([`SharedReplayGuard::check`]). The last step of a `verify_shared`.
    ///
    /// # Errors
    ///
    /// As [`SharedReplayGuard::check`]: [`CallbackError::Replayed`] for a
    /// replay, [`CallbackError::ReplayCheckUnavailable`] when the store
    /// cannot answer.
    pub async fn admit_shared<T>(&self, (callback, id): (T, String)) -> Result<T, CallbackError> {
        self.check(&id).await?;
        Ok(callback)
    }

    /// `Ok(())` the first time the fleet sees `id` (through the store) —
    /// or this process, without one.
    ///
    /// # Errors
    ///
    /// [`CallbackError::Replayed`] for a replay;
    /// [`CallbackError::ReplayCheckUnavailable`] when the store cannot
    /// answer: never an acceptance it could not check (answer the sender
    /// with a 503, so that it sends the callback again).
    pub async fn check(&self, id: &str) -> Result<(), CallbackError> {
        let first = match &self.store {
            Some(store) => store
                .first_time(self.namespace, id, self.ttl)
                .await
                .map_err(|_| CallbackError::ReplayCheckUnavailable)?,
            None => self.local.first_time(id),
        };
        if first {
            Ok(())
        } else {
            Err(CallbackError::Replayed)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::sync::Mutex;

    use super::*;
    use crate::base::error::ErrorKind;

    /// A store in memory shared by several guards (as Redis is by a fleet).
    #[derive(Debug, Default)]
    struct Shared(Mutex<HashSet<(String, String)>>, Mutex<bool>);

    impl SeenKeys for Shared {
        fn first_time<'a>(
            &'a self,
            namespace: &'a str,
            id: &'a str,
            _ttl: Duration,
        ) -> BoxFuture<'a, Result<bool, Error>> {
            Box::pin(async move {
                if *self.1.lock().unwrap() {
                    return Err(Error::new(ErrorKind::Transient, "test", "down"));
                }
                Ok(self.0.lock().unwrap().insert((namespace.into(), id.into())))
            })
        }
    }

    #[tokio::test]
    async fn two_guards_on_one_store_accept_an_id_once() {
        let store = Arc::new(Shared::default());
        let a = SharedReplayGuard::in_memory("p").with_store(store.clone());
        let b = SharedReplayGuard::in_memory("p").with_store(store.clone());
        let other = SharedReplayGuard::in_memory("q").with_store(store.clone());
        assert!(a.is_shared());
        assert_eq!(a.check("cb-1").await, Ok(()));
        assert_eq!(b.check("cb-1").await, Err(CallbackError::Replayed));
        assert_eq!(a.check("cb-1").await, Err(CallbackError::Replayed));
        assert_eq!(other.check("cb-1").await, Ok(()), "another namespace");
        // Two guards in memory: each accepts it (the per-process default).
        let (c, d) = (
            SharedReplayGuard::in_memory("p"),
            SharedReplayGuard::in_memory("p"),
        );
        assert_eq!(c.check("cb-1").await, Ok(()));
        assert_eq!(d.check("cb-1").await, Ok(()));
        assert_eq!(c.check("cb-1").await, Err(CallbackError::Replayed));
    }

    /// A verified callback goes through once per guard, in memory and
    /// through the store alike.
    #[tokio::test]
    async fn admit_hands_the_callback_back_once() {
        let guard = SharedReplayGuard::in_memory("p");
        assert_eq!(guard.admit(("body", "cb-3".to_owned())), Ok("body"));
        assert_eq!(
            guard.admit(("body", "cb-3".to_owned())),
            Err(CallbackError::Replayed)
        );
        let shared = SharedReplayGuard::in_memory("p").with_store(Arc::new(Shared::default()));
        assert_eq!(shared.admit_shared((7, "cb-3".to_owned())).await, Ok(7));
        assert_eq!(
            shared.admit_shared((7, "cb-3".to_owned())).await,
            Err(CallbackError::Replayed)
        );
    }

    #[tokio::test]
    async fn a_store_that_cannot_answer_is_no_acceptance() {
        let store = Arc::new(Shared::default());
        let guard = SharedReplayGuard::in_memory("p").with_store(store.clone());
        *store.1.lock().unwrap() = true;
        assert_eq!(
            guard.check("cb-2").await,
            Err(CallbackError::ReplayCheckUnavailable)
        );
        // Not remembered as seen: the sender's next try is accepted.
        *store.1.lock().unwrap() = false;
        assert_eq!(guard.check("cb-2").await, Ok(()));
    }
}
