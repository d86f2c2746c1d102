//! What comes after an attempt: one pure function of what came back, the
//! call's state so far and the policy — no I/O, no clock, no randomness
//! (the caller hands in the jittered backoff and the time spent) — so
//! every retry rule the README states is a row of the table test below.

use std::time::Duration;

use reqwest::StatusCode;

use super::classify::{is_transient_status, is_unprocessed_status};
use crate::base::policy::RetryPolicy;
use crate::observe::events::RetryReason;

/// What an attempt came back with, as the decision needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Answer {
    /// A response with this status; `retry_after`: the server's
    /// `Retry-After`/`retry-after-ms`, parsed.
    Status {
        status: StatusCode,
        retry_after: Option<Duration>,
    },
    /// No response. `retryable`: whether the failure is worth another
    /// try at all (a connection refused, a timeout, a reset — not a body
    /// over the cap); `reached`: whether the request may have reached the
    /// server; `timeout`: whether the attempt timed out.
    Transport {
        retryable: bool,
        reached: bool,
        timeout: bool,
    },
}

/// The call so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct State {
    /// Retries already made (after the first attempt).
    pub(crate) retries: u32,
    /// Whether credentials were already renewed after a 401.
    pub(crate) renewed: bool,
    /// Whether the request may be sent twice without the caller's say-so:
    /// a token call, an anonymous call, a read-only method, a body with an
    /// idempotency key, or the policy allows it.
    pub(crate) safe: bool,
    /// Whether the operation needs no credential (a login).
    pub(crate) anonymous: bool,
    /// Whether the request carried a bearer from a token cache the
    /// session can renew.
    pub(crate) renewable: bool,
    /// Time spent on the call since its first attempt was sent.
    pub(crate) elapsed: Duration,
}

/// What to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    /// The answer is the call's: hand it over (a response, or a transport
    /// failure as an error).
    Deliver,
    /// A 401 for a bearer: renew the credentials and send once more.
    Renew,
    /// Wait `delay`, then send again.
    Retry {
        delay: Duration,
        reason: RetryReason,
    },
}

/// The decision after an attempt. `backoff` is the policy's jittered
/// backoff for the next retry ([`RetryPolicy::backoff`] of
/// `state.retries + 1`), used when the server names no wait.
pub(crate) fn decide(
    answer: Answer,
    state: State,
    policy: &RetryPolicy,
    backoff: Duration,
) -> Decision {
    let retries_left = state.retries < policy.max_retries;
    let within_deadline = |wait: Duration| policy.allows_wait(state.elapsed, wait);
    match answer {
        Answer::Status { status, .. }
            if status == StatusCode::UNAUTHORIZED && !state.renewed && !state.anonymous =>
        {
            if state.renewable {
                Decision::Renew
            } else {
                Decision::Deliver
            }
        }
        Answer::Status {
            status,
            retry_after,
        } if is_transient_status(status)
            && (state.safe || is_unprocessed_status(status))
            && retries_left =>
        {
            let delay = match retry_after {
                // Asked to wait past the cap: no early retry; the caller
                // sees the response (and `Error::retry_after`).
                Some(asked) if asked > policy.max_retry_after => return Decision::Deliver,
                Some(asked) => asked,
                None => backoff,
            };
            if within_deadline(delay) {
                Decision::Retry {
                    delay,
                    reason: RetryReason::Status(status.as_u16()),
                }
            } else {
                Decision::Deliver
            }
        }
        Answer::Transport {
            retryable: true,
            reached,
            timeout,
        } if retries_left && (state.safe || !reached) && within_deadline(backoff) => {
            Decision::Retry {
                delay: backoff,
                reason: if timeout {
                    RetryReason::Timeout
                } else {
                    RetryReason::Connection
                },
            }
        }
        _ => Decision::Deliver,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;
    const BACKOFF: Duration = Duration::from_millis(400);

    fn status(code: u16) -> Answer {
        Answer::Status {
            status: StatusCode::from_u16(code).expect("status"),
            retry_after: None,
        }
    }

    fn asking(code: u16, wait: Duration) -> Answer {
        Answer::Status {
            status: StatusCode::from_u16(code).expect("status"),
            retry_after: Some(wait),
        }
    }

    const REFUSED: Answer = Answer::Transport {
        retryable: true,
        reached: false,
        timeout: false,
    };
    const TIMED_OUT: Answer = Answer::Transport {
        retryable: true,
        reached: true,
        timeout: true,
    };
    const RESET: Answer = Answer::Transport {
        retryable: true,
        reached: true,
        timeout: false,
    };
    const TOO_LARGE: Answer = Answer::Transport {
        retryable: false,
        reached: true,
        timeout: false,
    };

    /// A GET with a cached bearer, first retry ahead.
    const GET: State = State {
        retries: 0,
        renewed: false,
        safe: true,
        anonymous: false,
        renewable: true,
        elapsed: Duration::ZERO,
    };
    /// A payment POST: not safe to repeat.
    const POST: State = State { safe: false, ..GET };

    fn retry(delay: Duration, reason: RetryReason) -> Decision {
        Decision::Retry { delay, reason }
    }

    /// The README's retry rules, one row each.
    #[test]
    fn the_retry_rules_as_a_table() {
        let policy = RetryPolicy::default(); // 2 retries, 30 s deadline, 60 s max Retry-After
        let rows: &[(&str, Answer, State, Decision)] = &[
            ("a 2xx is delivered", status(200), GET, Decision::Deliver),
            ("a 404 is delivered", status(404), GET, Decision::Deliver),
            (
                "a 501 is not transient",
                status(501),
                GET,
                Decision::Deliver,
            ),
            (
                "429 without Retry-After: the backoff",
                status(429),
                GET,
                retry(BACKOFF, RetryReason::Status(429)),
            ),
            (
                "429 with Retry-After: its wait",
                asking(429, S(3)),
                GET,
                retry(S(3), RetryReason::Status(429)),
            ),
            (
                "429 is retried even for a POST (not processed)",
                status(429),
                POST,
                retry(BACKOFF, RetryReason::Status(429)),
            ),
            (
                "503 for a GET: retried",
                status(503),
                GET,
                retry(BACKOFF, RetryReason::Status(503)),
            ),
            (
                "503 for a non-idempotent POST: delivered",
                status(503),
                POST,
                Decision::Deliver,
            ),
            (
                "408 for a GET: retried",
                status(408),
                GET,
                retry(BACKOFF, RetryReason::Status(408)),
            ),
            (
                "a Retry-After over the limit ends the call",
                asking(503, S(61)),
                GET,
                Decision::Deliver,
            ),
            (
                "a Retry-After at the limit is honoured if the deadline allows",
                asking(429, S(20)),
                GET,
                retry(S(20), RetryReason::Status(429)),
            ),
            (
                "a wait past the total deadline ends the call",
                asking(429, S(20)),
                State {
                    elapsed: S(15),
                    ..GET
                },
                Decision::Deliver,
            ),
            (
                "the retry budget spent: delivered",
                status(503),
                State { retries: 2, ..GET },
                Decision::Deliver,
            ),
            (
                "a timeout for a GET: retried",
                TIMED_OUT,
                GET,
                retry(BACKOFF, RetryReason::Timeout),
            ),
            (
                "a timeout for a POST may have reached the server: not retried",
                TIMED_OUT,
                POST,
                Decision::Deliver,
            ),
            (
                "a connection reset for a POST: not retried",
                RESET,
                POST,
                Decision::Deliver,
            ),
            (
                "connection refused never reached the server: retried even for a POST",
                REFUSED,
                POST,
                retry(BACKOFF, RetryReason::Connection),
            ),
            (
                "a transport failure past the deadline: delivered",
                REFUSED,
                State {
                    elapsed: S(30),
                    ..GET
                },
                Decision::Deliver,
            ),
            (
                "a transport failure with no retries left: delivered",
                REFUSED,
                State { retries: 2, ..GET },
                Decision::Deliver,
            ),
            (
                "a body over the cap is never retried",
                TOO_LARGE,
                GET,
                Decision::Deliver,
            ),
            (
                "a 401 for a bearer: renew",
                status(401),
                GET,
                Decision::Renew,
            ),
            (
                "a 401 for a POST: renew (it was not processed)",
                status(401),
                POST,
                Decision::Renew,
            ),
            (
                "a 401 after a renewal: delivered",
                status(401),
                State {
                    renewed: true,
                    ..GET
                },
                Decision::Deliver,
            ),
            (
                "a 401 to a login: delivered",
                status(401),
                State {
                    anonymous: true,
                    ..GET
                },
                Decision::Deliver,
            ),
            (
                "a 401 with nothing to renew (an API key): delivered",
                status(401),
                State {
                    renewable: false,
                    ..GET
                },
                Decision::Deliver,
            ),
            (
                "a 401 does not spend the retry budget",
                status(401),
                State { retries: 2, ..GET },
                Decision::Renew,
            ),
        ];
        for (name, answer, state, want) in rows {
            assert_eq!(decide(*answer, *state, &policy, BACKOFF), *want, "{name}");
        }
    }

    #[test]
    fn hostile_waits_never_overflow() {
        let policy = RetryPolicy::default().max_retry_after(Duration::MAX);
        let late = State {
            elapsed: Duration::MAX,
            ..GET
        };
        for answer in [asking(429, Duration::MAX), REFUSED, status(503)] {
            assert_eq!(
                decide(answer, late, &policy, Duration::MAX),
                Decision::Deliver
            );
        }
        // No deadline at all: the wait asked for is the wait taken.
        let unbounded = policy.total_deadline(Duration::MAX);
        assert_eq!(
            decide(asking(429, Duration::MAX), late, &unbounded, BACKOFF),
            retry(Duration::MAX, RetryReason::Status(429))
        );
    }
}
