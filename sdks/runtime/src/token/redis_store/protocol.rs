//! The fleet protocol: read, lock, fetch under an extended lease, fenced
//! write; waiters that poll, then serve a stored token, give up, or fetch
//! alone and publish; and the guard that releases a lock whose owner was
//! cancelled or panicked.

use std::future::Future;
use std::time::{Duration, Instant, SystemTime};

use futures::future::{self, Either};
use rand::Rng;
use tracing::{debug, warn};

use super::RedisStore;
use super::connection::{Conn, Failed};
use super::scripts;
use super::sealing::Opened;
use super::stats::inc;
use crate::base::error::Error;
use crate::token::store::{FetchFn, Outcome, Record, Wanted, unix_ms};

/// No entry lives longer than this, whatever its refresh token says.
const MAX_ENTRY_TTL_MS: i64 = 31 * 24 * 3600 * 1000;

/// What one read of the token key found.
enum Read {
    Absent,
    Record(Record),
    /// A value this process cannot decrypt: left alone.
    Undecryptable,
}

/// Redis failed before the fetch ran: the fetch is handed back, with the
/// last serviceable record read, for a direct fetch.
type HandBack<'a> = (FetchFn<'a>, Option<Record>);

/// Releases the lock when dropped armed: its owner was cancelled, panicked
/// or lost Redis mid-protocol. The release runs on the current runtime, in
/// the background, bounded by the operation timeout.
struct LockGuard {
    conn: Option<Conn>,
    lock_key: String,
    owner: String,
    timeout: Duration,
}

impl LockGuard {
    fn disarm(&mut self) {
        self.conn = None;
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        let Some(mut conn) = self.conn.take() else {
            return;
        };
        let cmd = scripts::release(&self.lock_key, &self.owner);
        let timeout = self.timeout;
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                let _ = tokio::time::timeout(timeout, conn.query::<i64>(&cmd)).await;
            });
        }
    }
}

fn millis(d: Duration) -> u64 {
    d.as_millis().clamp(1, u64::MAX as u128) as u64
}

impl RedisStore {
    pub(super) async fn get_or_fetch_inner<'a>(
        &'a self,
        key: &'a str,
        wanted: Wanted<'a>,
        fetch: FetchFn<'a>,
    ) -> Result<Outcome, Error> {
        let (fetch, serviceable) = if self.link.gate_open() {
            match self.through_redis(key, &wanted, fetch).await {
                Ok(outcome) => return outcome,
                Err(handed_back) => handed_back,
            }
        } else {
            (fetch, None)
        };
        inc(&self.counters.fallbacks);
        // No stored refresh token: another process may be using it.
        match fetch(None).await {
            Ok(record) => Ok(Outcome::Fetched(record)),
            Err(error) => self.stale_or(serviceable, error),
        }
    }

    async fn through_redis<'a>(
        &'a self,
        key: &str,
        wanted: &Wanted<'_>,
        fetch: FetchFn<'a>,
    ) -> Result<Result<Outcome, Error>, HandBack<'a>> {
        let token_key = self.token_key(key);
        let lock_key = self.lock_key(key);
        let serviceable = |r: &Option<Record>| r.clone().filter(|r| (wanted.serviceable)(r));
        let Ok(mut conn) = self.link.connection(&self.counters).await else {
            return Err((fetch, None));
        };
        let mut latest = match self.read(&mut conn, &token_key).await {
            Ok(Read::Record(r)) => Some(r),
            Ok(Read::Absent) => None,
            Ok(Read::Undecryptable) => return Ok(self.alone(fetch).await),
            Err(Failed) => return Err((fetch, None)),
        };
        if let Some(r) = latest.as_ref().filter(|r| (wanted.fresh)(r)) {
            inc(&self.counters.hits);
            return Ok(Ok(Outcome::Stored(r.clone())));
        }
        let owner = format!("{:032x}", rand::rng().random::<u128>());
        let lease_ms = millis(self.cfg.lock_ttl);
        let deadline = Instant::now() + self.cfg.max_wait;
        let mut waited = false;
        loop {
            let cmd = scripts::try_lock(&lock_key, &owner, lease_ms);
            let acquired = match self
                .link
                .run::<Option<String>>(&self.counters, &mut conn, &cmd)
                .await
            {
                Ok(set) => set.is_some(),
                Err(Failed) => return Err((fetch, serviceable(&latest))),
            };
            if acquired {
                let mut guard = LockGuard {
                    conn: Some(conn.clone()),
                    lock_key: lock_key.clone(),
                    owner: owner.clone(),
                    timeout: self.link.op_timeout(),
                };
                // Double check: the previous holder may have just written.
                let fresh = match self.read(&mut conn, &token_key).await {
                    Ok(Read::Record(r)) => Some(r),
                    Ok(Read::Absent) => None,
                    Ok(Read::Undecryptable) => {
                        self.release(&mut conn, &mut guard).await;
                        return Ok(self.alone(fetch).await);
                    }
                    Err(Failed) => return Err((fetch, serviceable(&latest))),
                };
                if let Some(r) = fresh.as_ref().filter(|r| (wanted.fresh)(r)) {
                    inc(if waited {
                        &self.counters.waited
                    } else {
                        &self.counters.hits
                    });
                    self.release(&mut conn, &mut guard).await;
                    return Ok(Ok(Outcome::Stored(r.clone())));
                }
                let latest = fresh.or(latest);
                return Ok(self
                    .fetch_holding_lock(conn, guard, &token_key, latest, wanted, fetch)
                    .await);
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(self
                    .after_wait(conn, &token_key, latest, wanted, fetch)
                    .await);
            }
            waited = true;
            tokio::time::sleep(self.cfg.poll_interval.min(deadline - now)).await;
            match self.read(&mut conn, &token_key).await {
                Ok(Read::Record(r)) if (wanted.fresh)(&r) => {
                    inc(&self.counters.waited);
                    return Ok(Ok(Outcome::Stored(r)));
                }
                Ok(Read::Record(r)) => latest = Some(r),
                Ok(Read::Absent) => {}
                Ok(Read::Undecryptable) => return Ok(self.alone(fetch).await),
                Err(Failed) => return Err((fetch, serviceable(&latest))),
            }
        }
    }

    /// A value we cannot read is stored: fetch for this process only, and
    /// never overwrite it.
    async fn alone<'a>(&'a self, fetch: FetchFn<'a>) -> Result<Outcome, Error> {
        fetch(None).await.map(Outcome::Fetched)
    }

    /// Another process has held the lock for `max_wait`: give up (the
    /// caller has a token of its own), or serve a stored unexpired token,
    /// or fetch alone and publish.
    async fn after_wait<'a>(
        &'a self,
        mut conn: Conn,
        token_key: &str,
        latest: Option<Record>,
        wanted: &Wanted<'_>,
        fetch: FetchFn<'a>,
    ) -> Result<Outcome, Error> {
        inc(&self.counters.wait_timeouts);
        if wanted.give_up_when_busy {
            inc(&self.counters.gave_up);
            return Ok(Outcome::Busy);
        }
        if let Some(record) = latest.filter(|r| (wanted.serviceable)(r)) {
            inc(&self.counters.stale_served);
            debug!(
                "another process is still fetching after {:?}; serving the stored token",
                self.cfg.max_wait
            );
            return Ok(Outcome::Stale {
                record,
                error: None,
            });
        }
        debug!(
            "another process is still fetching after {:?}; fetching alone",
            self.cfg.max_wait
        );
        // No stored refresh token: the lock holder is using it.
        let outcome = fetch(None).await;
        if let Ok(record) = &outcome
            && let Some((value, ttl_ms)) = self.sealed(record, token_key)
        {
            let cmd = scripts::publish(token_key, &value, ttl_ms, &self.prefixes);
            match self.link.run::<i64>(&self.counters, &mut conn, &cmd).await {
                Ok(1) => inc(&self.counters.published),
                Ok(_) => self.note_undecryptable(),
                Err(Failed) => {}
            }
        }
        outcome.map(Outcome::Fetched)
    }

    /// Run the fetch with the fleet's latest record while extending the
    /// lease, then write only if the lock is still ours (and release it).
    async fn fetch_holding_lock<'a>(
        &'a self,
        mut conn: Conn,
        mut guard: LockGuard,
        token_key: &str,
        latest: Option<Record>,
        wanted: &Wanted<'_>,
        fetch: FetchFn<'a>,
    ) -> Result<Outcome, Error> {
        inc(&self.counters.fetches_run);
        let now = unix_ms(SystemTime::now());
        let given = latest.clone().map(|mut r| {
            if r.live_refresh_token(now).is_none() {
                r.refresh_token = None;
            }
            r
        });
        let outcome = self
            .extending(conn.clone(), &guard.lock_key, &guard.owner, fetch(given))
            .await;
        match outcome {
            Ok(record) => {
                self.write_fenced(&mut conn, &mut guard, token_key, &record)
                    .await;
                Ok(Outcome::Fetched(record))
            }
            Err(error) => {
                self.release(&mut conn, &mut guard).await;
                self.stale_or(latest.filter(|r| (wanted.serviceable)(r)), error)
            }
        }
    }

    /// After a failed fetch: the still-serviceable `record`, counted as
    /// served stale, else the fetch's error.
    fn stale_or(&self, record: Option<Record>, error: Error) -> Result<Outcome, Error> {
        match record {
            Some(record) => {
                inc(&self.counters.stale_served);
                Ok(Outcome::Stale {
                    record,
                    error: Some(error),
                })
            }
            None => Err(error),
        }
    }

    /// `work`, while the lock's lease is renewed every third of it.
    async fn extending<T>(
        &self,
        mut conn: Conn,
        lock_key: &str,
        owner: &str,
        work: impl Future<Output = T>,
    ) -> T {
        let lease_ms = millis(self.cfg.lock_ttl);
        let every = (self.cfg.lock_ttl / 3).max(Duration::from_millis(1));
        let keep = async move {
            loop {
                tokio::time::sleep(every).await;
                let cmd = scripts::extend(lock_key, owner, lease_ms);
                match self.link.run::<i64>(&self.counters, &mut conn, &cmd).await {
                    Ok(1) => {}
                    Ok(_) => {
                        debug!(
                            "the fleet lock was lost during a fetch; its result will not be stored"
                        );
                        break;
                    }
                    // Redis may be back before the lease ends.
                    Err(Failed) => {}
                }
            }
        };
        let work = std::pin::pin!(work);
        let keep = std::pin::pin!(keep);
        match future::select(work, keep).await {
            Either::Left((out, _)) => out,
            Either::Right(((), work)) => work.await,
        }
    }

    /// The fenced write (which also releases the lock).
    async fn write_fenced(
        &self,
        conn: &mut Conn,
        guard: &mut LockGuard,
        token_key: &str,
        record: &Record,
    ) {
        let Some((value, ttl_ms)) = self.sealed(record, token_key) else {
            self.release(conn, guard).await;
            return;
        };
        let cmd = scripts::write_fenced(
            token_key,
            &guard.lock_key,
            &guard.owner,
            &value,
            ttl_ms,
            &self.prefixes,
        );
        match self.link.run::<i64>(&self.counters, conn, &cmd).await {
            Ok(1) => guard.disarm(),
            Ok(0) => {
                guard.disarm();
                inc(&self.counters.lost_locks);
                warn!(
                    "the fleet lock was lost during a token fetch (lease {:?}); the token was not stored",
                    self.cfg.lock_ttl
                );
            }
            Ok(_) => {
                guard.disarm();
                self.note_undecryptable();
            }
            // The guard releases the lock (or its lease ends).
            Err(Failed) => {}
        }
    }

    async fn release(&self, conn: &mut Conn, guard: &mut LockGuard) {
        let cmd = scripts::release(&guard.lock_key, &guard.owner);
        if self
            .link
            .run::<i64>(&self.counters, conn, &cmd)
            .await
            .is_ok()
        {
            guard.disarm();
        }
    }

    /// The sealed value and its time to live: until the later of the access
    /// token's and the refresh token's expiry. `None`: nothing worth
    /// storing (expired).
    fn sealed(&self, record: &Record, token_key: &str) -> Option<(String, i64)> {
        let until = match (
            &record.refresh_token,
            record.refresh_token_expires_at_unix_ms,
        ) {
            (Some(_), Some(rt)) => rt.max(record.expires_at_unix_ms),
            _ => record.expires_at_unix_ms,
        };
        let ttl_ms = until
            .saturating_sub(unix_ms(SystemTime::now()))
            .min(MAX_ENTRY_TTL_MS);
        if ttl_ms <= 0 {
            return None;
        }
        Some((self.sealer.seal(record, token_key)?, ttl_ms))
    }

    async fn read(&self, conn: &mut Conn, token_key: &str) -> Result<Read, Failed> {
        let value: Option<String> = self
            .link
            .run(&self.counters, conn, &scripts::get(token_key))
            .await?;
        Ok(match value {
            None => Read::Absent,
            Some(v) => match self.sealer.open(&v, token_key) {
                Opened::Record(r) => Read::Record(r),
                Opened::Undecryptable => {
                    self.note_undecryptable();
                    Read::Undecryptable
                }
            },
        })
    }
}
