//! [`Route`]: one emulated endpoint of a provider, for fault injection and counters.
//!
//! An open type like [`crate::Provider`]: `Route::Login` and `Route::Protected`
//! (which every provider offers) are defined here, every other route in the
//! module of the provider that offers it.

use std::fmt;

use serde::{Serialize, Serializer};

/// An emulated endpoint, named as in the control plane (`login`, `card_payment`, …).
/// Which provider offers which route: [`crate::Provider::routes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Route(&'static str);

#[allow(non_upper_case_globals)] // read like the enum variants they replaced
impl Route {
    /// The token-issuing endpoint of every provider.
    pub const Login: Route = Route::named("login");
    /// Sandbox-only `GET {base}/sandbox/protected` (every provider): checks the
    /// credentials exactly like the provider's operations do.
    pub const Protected: Route = Route::named("protected");

    pub(crate) const fn named(name: &'static str) -> Route {
        Route(name)
    }

    /// The route's name, e.g. `"card_payment"`.
    pub fn as_str(self) -> &'static str {
        self.0
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl Serialize for Route {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0)
    }
}

/// Lower case without `_` and `-`: `card-payment`, `CardPayment` and
/// `card_payment` name the same route.
pub(crate) fn normalise(s: &str) -> String {
    s.chars()
        .filter(|c| *c != '_' && *c != '-')
        .collect::<String>()
        .to_ascii_lowercase()
}
