//! [`Provider`]: which emulated provider a URL, route, token or counter belongs to.
//!
//! An open type: each provider's module under `providers/` defines its constant
//! (`Provider::Exirom`, …) and the registry (`providers/mod.rs`) lists the
//! providers that exist, so adding one touches no code here.

use std::fmt;

use serde::{Serialize, Serializer};

/// One emulated provider, named as in its URL prefix and in the control plane
/// (`exirom`, `institution`, …). The constants (`Provider::Pledg`, …) come from
/// each provider's module; [`Provider::all`] lists every one, in registration order.
///
/// Compares by name; orders by registration (the order of [`Provider::all`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Provider(&'static str);

impl Provider {
    /// A provider named `name` (only the registry's providers are ever handed out).
    pub(crate) const fn named(name: &'static str) -> Provider {
        Provider(name)
    }

    /// The provider's name, e.g. `"pledg"`.
    pub fn as_str(self) -> &'static str {
        self.0
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl Serialize for Provider {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0)
    }
}

impl PartialOrd for Provider {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Registration order, so listings (counters, credentials) keep one stable order.
impl Ord for Provider {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.index()
            .cmp(&other.index())
            .then_with(|| self.0.cmp(other.0))
    }
}
