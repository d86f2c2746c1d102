//! [`Variant`]: a response shape of a provider whose documentation disagrees with itself.

use std::fmt;

use serde::{Serialize, Serializer};

use crate::provider::Provider;

/// One response-shape variant of one provider (e.g. exirom's bare-string or object
/// login answer). The constants come from the provider's module; the first variant a
/// provider lists is its default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Variant {
    provider: Provider,
    name: &'static str,
}

impl Variant {
    pub(crate) const fn of(provider: Provider, name: &'static str) -> Variant {
        Variant { provider, name }
    }

    /// The provider whose answers it shapes.
    pub fn provider(self) -> Provider {
        self.provider
    }

    /// The name used by the control plane, e.g. `"exirom_object"`.
    pub fn as_str(self) -> &'static str {
        self.name
    }
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

impl Serialize for Variant {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name)
    }
}
