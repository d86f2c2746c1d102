//! Login backoff: account-lockout protection.
//!
//! After a login the provider refused for good (`InvalidCredentials`,
//! `BadRequest`), or after a token it had just issued was rejected with
//! 401, the same principal does not call the login endpoint again for a
//! cool-down that grows ×5 from [`LOGIN_BACKOFF_INITIAL`] to
//! [`LOGIN_BACKOFF_MAX`] (1 s, 5 s, 25 s, 125 s, 300 s). Callers meanwhile
//! get the cached error, with [`Error::retry_after`](crate::Error::retry_after)
//! saying when the next attempt is allowed. Twenty wrong-password calls in
//! a row make at most three login calls in their first ten seconds.

use std::time::{Duration, Instant};

use crate::base::error::{Error, ErrorKind};

/// The first cool-down after a refused login.
pub const LOGIN_BACKOFF_INITIAL: Duration = Duration::from_secs(1);
/// The longest cool-down.
pub const LOGIN_BACKOFF_MAX: Duration = Duration::from_secs(300);
const GROWTH: u32 = 5;
/// A token rejected with 401 sooner than this (or than half its lifetime)
/// after it was received counts as "just issued": logging in again is
/// unlikely to help.
pub(crate) const FRESH_REJECTION: Duration = Duration::from_secs(10);

/// Fresh-token rejections further apart than this are not a streak.
const FRESH_STREAK: Duration = Duration::from_secs(60);

/// Whether a login failure is one the provider will repeat for the same
/// credentials.
pub(crate) fn is_refusal(kind: ErrorKind) -> bool {
    matches!(kind, ErrorKind::InvalidCredentials | ErrorKind::BadRequest)
}

#[derive(Debug, Default)]
pub(crate) struct Backoff {
    strikes: u32,
    /// The error to hand out, and when the next attempt is allowed.
    blocked: Option<(Error, Instant)>,
    /// Fresh-token rejections in a row; the first one is retried at once.
    rejections: u32,
    last_rejection: Option<Instant>,
}

impl Backoff {
    /// The cached error while the cool-down runs, with the time left.
    pub(crate) fn check(&self, now: Instant) -> Option<Error> {
        let (e, until) = self.blocked.as_ref()?;
        (now < *until).then(|| e.clone().with_retry_after(*until - now))
    }

    /// A refused login: start or grow the cool-down. Returns the error
    /// marked with the wait.
    pub(crate) fn refused(&mut self, e: &Error, now: Instant) -> Error {
        self.strikes = self.strikes.saturating_add(1);
        let delay = LOGIN_BACKOFF_INITIAL
            .saturating_mul(GROWTH.saturating_pow(self.strikes - 1))
            .min(LOGIN_BACKOFF_MAX);
        let until = now.checked_add(delay).unwrap_or(now);
        let marked = e.clone().with_retry_after(delay);
        self.blocked = Some((marked.clone(), until));
        marked
    }

    /// A successful login: the credentials work.
    pub(crate) fn succeeded(&mut self) {
        self.strikes = 0;
        self.blocked = None;
    }

    /// A token issued `age` ago was rejected with 401. The first such
    /// rejection is renewed at once; from the second on (within a minute
    /// of the previous one), logins back off like refused ones.
    pub(crate) fn rejected_fresh(&mut self, provider: &'static str, now: Instant) {
        if self
            .last_rejection
            .is_some_and(|t| now.saturating_duration_since(t) > FRESH_STREAK)
        {
            self.rejections = 0;
        }
        self.rejections = self.rejections.saturating_add(1);
        self.last_rejection = Some(now);
        if self.rejections >= 2 {
            let e = Error::new(
                ErrorKind::Unauthorized,
                provider,
                "the provider rejected tokens it had just issued; logins are paused",
            )
            .with_status(401);
            self.refused(&e, now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_by_five_and_caps() {
        let now = Instant::now();
        let e = Error::new(ErrorKind::InvalidCredentials, "x", "no");
        let mut b = Backoff::default();
        let mut waits = Vec::new();
        for _ in 0..7 {
            b.refused(&e, now);
            waits.push(b.check(now).unwrap().retry_after().unwrap());
        }
        let secs: Vec<u64> = waits.iter().map(Duration::as_secs).collect();
        assert_eq!(secs, [1, 5, 25, 125, 300, 300, 300]);
        assert!(b.check(now + Duration::from_secs(301)).is_none());
        b.succeeded();
        assert!(b.check(now).is_none());
    }

    #[test]
    fn second_fresh_rejection_blocks() {
        let now = Instant::now();
        let mut b = Backoff::default();
        b.rejected_fresh("x", now);
        assert!(b.check(now).is_none());
        b.rejected_fresh("x", now);
        let e = b.check(now).unwrap();
        assert_eq!(e.kind(), ErrorKind::Unauthorized);
    }
}
