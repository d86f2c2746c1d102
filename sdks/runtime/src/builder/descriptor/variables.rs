//! The environment variables a provider reads ([`Variable`]), the local
//! sandbox's values that fill them ([`Values`]), and reading one.

use std::collections::BTreeMap;

use crate::base::error::Error;
use crate::builder::env::FileLookup;

/// Values keyed by name: the local sandbox's (its credentials' and
/// configuration's fields, named as [`Variable::sandbox_field`] names
/// them, and `base_url`), which a call's sample body or a trigger may need
/// (`merchant_uid` of pledg's purchase link).
pub type Values = BTreeMap<String, String>;

/// One environment variable a provider's `from_env` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variable {
    /// The variable's name (`MERCHANT_KEY`); `<name>_FILE` may name a file
    /// holding its value instead.
    pub name: &'static str,
    /// A credential: never printed, never logged.
    pub secret: bool,
    /// `from_env` fails without it (`about` says when it is needed otherwise).
    pub required: bool,
    /// What it holds, in a few words (`payauth check` prints it).
    pub about: &'static str,
    /// The field of the local sandbox's values (credentials and
    /// configuration) this variable takes, when the sandbox has one
    /// (`payauth sandbox` prints it).
    pub sandbox_field: Option<&'static str>,
}

impl Variable {
    /// A required, non-secret variable with no sandbox field.
    pub const fn required(name: &'static str, about: &'static str) -> Variable {
        Variable {
            name,
            secret: false,
            required: true,
            about,
            sandbox_field: None,
        }
    }
    /// An optional, non-secret variable with no sandbox field.
    pub const fn optional(name: &'static str, about: &'static str) -> Variable {
        Variable {
            required: false,
            ..Variable::required(name, about)
        }
    }
    /// Marks the variable as a credential.
    pub const fn secret(mut self) -> Variable {
        self.secret = true;
        self
    }
    /// The sandbox's value `field` fills it.
    pub const fn sandbox(mut self, field: &'static str) -> Variable {
        self.sandbox_field = Some(field);
        self
    }
}

/// A required variable for a provider's
/// [`Described::login_request`](super::Described::login_request)
/// (`<VAR>_FILE` honoured, empty is unset).
///
/// # Errors
///
/// `Config` when it is not set, or its file cannot be read.
pub fn variable(
    provider: &'static str,
    get: &dyn Fn(&str) -> Option<String>,
    key: &str,
) -> Result<String, Error> {
    let files = FileLookup::new(provider, get);
    let value = files.get(key);
    files.finish()?;
    value.ok_or_else(|| Error::config(provider, format!("{key} is not set")))
}

pub use crate::builder::env::env_or_file;
