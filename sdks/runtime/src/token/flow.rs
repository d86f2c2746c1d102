//! What a provider supplies to obtain tokens: a [`TokenFlow`] returning
//! [`Issued`] tokens.

use std::fmt;
use std::sync::Arc;

use futures::future::BoxFuture;

use crate::base::error::Error;
use crate::base::expiry::ExpiryHints;
use crate::base::secret::Secret;

/// What a provider's auth endpoint returned.
#[derive(Clone)]
pub struct Issued {
    pub access_token: Secret,
    pub refresh_token: Option<Secret>,
    pub hints: ExpiryHints,
}

impl Issued {
    /// A bare access token whose expiry is only in its JWT `exp`.
    pub fn jwt(token: impl Into<String>) -> Self {
        Issued {
            access_token: Secret::new(token),
            refresh_token: None,
            hints: ExpiryHints::default(),
        }
    }
}

impl fmt::Debug for Issued {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Issued")
            .field("access_token", &self.access_token)
            .field("refresh_token", &self.refresh_token)
            .field("hints", &self.hints)
            .finish()
    }
}

/// How one provider obtains tokens. Provider crates implement it in a few
/// lines over their generated login operation; everything else (caching,
/// single-flight, refresh timing, fallbacks) is the runtime's.
pub trait TokenFlow: Send + Sync + 'static {
    /// A full login with the configured credentials.
    fn login(&self) -> BoxFuture<'_, Result<Issued, Error>>;

    /// Exchange a refresh token, if the provider has them. `None`: it has not.
    fn refresh<'a>(
        &'a self,
        _refresh_token: &'a Secret,
    ) -> Option<BoxFuture<'a, Result<Issued, Error>>> {
        None
    }
}

/// A shared flow is a flow.
impl<T: TokenFlow + ?Sized> TokenFlow for Arc<T> {
    fn login(&self) -> BoxFuture<'_, Result<Issued, Error>> {
        (**self).login()
    }
    fn refresh<'a>(
        &'a self,
        refresh_token: &'a Secret,
    ) -> Option<BoxFuture<'a, Result<Issued, Error>>> {
        (**self).refresh(refresh_token)
    }
}
