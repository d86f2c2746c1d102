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
    /// The token put on requests (`Authorization: Bearer <it>`). One that
    /// cannot be a header value fails the fetch (`MalformedResponse`).
    pub access_token: Secret,
    /// The refresh token, for providers that issue one: the next fetch
    /// tries it before a login.
    pub refresh_token: Option<Secret>,
    /// What the answer says of the expiry besides the JWT's `exp`: the
    /// earliest of all wins; none at all, the profile's assumed lifetime.
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
    ///
    /// # Errors
    ///
    /// What the login call failed with, classified as an authentication
    /// call (`InvalidCredentials` for a 401, `Transient`, …;
    /// [`auth_body`](crate::provider::auth_body) does it); the runtime
    /// backs logins off after a refusal.
    fn login(&self) -> BoxFuture<'_, Result<Issued, Error>>;

    /// Exchange a refresh token, if the provider has them. `None` (the
    /// default): it has not.
    ///
    /// # Errors
    ///
    /// As [`login`](TokenFlow::login); a refresh that fails for any
    /// non-transient reason falls back to a login.
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
