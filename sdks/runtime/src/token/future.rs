//! The hot path: [`TokenFuture`], which serves a cached token from its
//! first poll without a lock, I/O or an async state machine.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::BoxFuture;

use super::manager::{Outcome, TokenManager};
use super::source::TokenSource;

/// The future [`TokenManager::token`] returns. Its first poll serves a
/// cached token without awaiting; only a missing, due or expired token
/// boxes the fetch (single-flight) and waits for it. Like any future it
/// does nothing until polled; dropping it never cancels a fetch other
/// callers wait for.
#[must_use = "futures do nothing unless polled"]
pub struct TokenFuture<'a> {
    manager: &'a Arc<TokenManager>,
    stage: Stage<'a>,
}

/// Before the first poll: the source a fetch would use; after it started
/// one: the boxed wait (two words either way).
enum Stage<'a> {
    Ready(&'a Arc<TokenSource>),
    Slow(BoxFuture<'a, Outcome>),
}

impl fmt::Debug for TokenFuture<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenFuture")
            .field("provider", &self.manager.profile.name)
            .field("fetching", &matches!(self.stage, Stage::Slow(_)))
            .finish()
    }
}

impl Future for TokenFuture<'_> {
    type Output = Outcome;

    /// Inlined into the caller whole: the fast path is a handful of
    /// instructions, and a call's prologue and epilogue were a third of
    /// what it added to the floor (callgrind, `benches/token_read.rs`).
    #[inline(always)]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Outcome> {
        if matches!(self.stage, Stage::Ready(_))
            && let Some(token) = self.manager.before_refresh()
        {
            return Poll::Ready(Ok(token));
        }
        self.poll_slow(cx)
    }
}

impl TokenFuture<'_> {
    /// Everything but a cached token before its refresh time: kept out
    /// of line so the hot path stays a handful of instructions.
    #[cold]
    #[inline(never)]
    pub(super) fn poll_slow(&mut self, cx: &mut Context<'_>) -> Poll<Outcome> {
        if let Stage::Ready(source) = self.stage {
            match self.manager.fresh(source) {
                Ok(token) => return Poll::Ready(Ok(token)),
                Err(reason) => {
                    let manager = self.manager;
                    self.stage = Stage::Slow(Box::pin(manager.obtain_token(reason, None, source)));
                }
            }
        }
        match &mut self.stage {
            Stage::Slow(slow) => slow.as_mut().poll(cx),
            Stage::Ready(_) => unreachable!("set above"),
        }
    }
}

impl TokenManager {
    /// A usable token. The hot path — a cached token before its refresh
    /// time — is one atomic load, one clock read and a reference-count
    /// bump: no lock, no I/O, no allocation, and no async state machine:
    /// [`TokenFuture`] answers it from a plain function on its first poll.
    pub fn token(self: &Arc<Self>) -> TokenFuture<'_> {
        self.token_from(&self.source)
    }

    /// [`TokenManager::token`], a fetch (if one is needed) running with
    /// `source`: the calling client's flow, fetch timeout and timer.
    pub fn token_from<'a>(self: &'a Arc<Self>, source: &'a Arc<TokenSource>) -> TokenFuture<'a> {
        TokenFuture {
            manager: self,
            stage: Stage::Ready(source),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::error::Error;

    /// What the hot path moves around per call: the future a caller
    /// embeds and the result it gets back. An `Error` of its own size
    /// (64 bytes before) made every `Result` on the path a memcpy.
    #[test]
    pub(super) fn the_hot_path_moves_three_words_at_most() {
        let word = std::mem::size_of::<usize>();
        assert_eq!(std::mem::size_of::<Error>(), word);
        assert_eq!(std::mem::size_of::<Outcome>(), 2 * word);
        assert!(std::mem::size_of::<TokenFuture<'_>>() <= 3 * word);
        assert_eq!(std::mem::size_of::<Stage<'_>>(), 2 * word);
    }
}
