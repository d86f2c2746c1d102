//! The emulated providers: one module each, and the one list that registers them.
//!
//! Adding a provider: a module here whose unit type implements [`crate::plugin::Plugin`]
//! (its routes, handlers, error format, configuration type), one line in [`REGISTRY`],
//! and its public types re-exported below (`cargo xtask new-provider` writes all three for
//! a standard OAuth2 provider). Nothing else in the sandbox names a provider.

mod axept;
mod bursagb;
mod exirom;
mod institution;
mod pledg;

pub use axept::AxeptConfig;
pub use bursagb::{BursagbAccount, BursagbApiKey, BursagbConfig};
pub use exirom::{ExiromCallbackForm, ExiromConfig};
pub use institution::{InstitutionConfig, RefreshTokens, institution_public_key_pem};
pub use pledg::PledgConfig;

use crate::plugin::Plugin;

/// Every emulated provider, in the order listings show them.
pub(crate) const REGISTRY: &[&dyn Plugin] = &[
    &exirom::Exirom,
    &institution::Institution,
    &pledg::Pledg,
    &bursagb::Bursagb,
    &axept::Axept,
];
