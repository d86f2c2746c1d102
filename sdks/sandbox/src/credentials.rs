//! [`Credentials`]: the working credentials of one provider, as data.

use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::provider::Provider;

/// Working credentials of one provider: named fields (`api_key`, `merchant_id`, …), as
/// the provider's module defines them. JSON: `{"provider": "pledg", "api_key": …}`.
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// use payauth_sandbox::{Provider, Sandbox};
/// let sb = Sandbox::start().await?;
/// let c = sb.credentials(Provider::Pledg);
/// let (key, secret) = (c.text("api_key"), c.text("api_secret"));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    provider: Provider,
    fields: Map<String, Value>,
}

impl Credentials {
    pub(crate) fn new(provider: Provider) -> Credentials {
        Credentials {
            provider,
            fields: Map::new(),
        }
    }

    /// Builder used by the providers' modules.
    pub(crate) fn with(mut self, name: &str, value: impl Into<Value>) -> Credentials {
        self.fields.insert(name.to_owned(), value.into());
        self
    }

    /// The provider these credentials are for.
    pub fn provider(&self) -> Provider {
        self.provider
    }

    /// Every field, by name.
    pub fn fields(&self) -> &Map<String, Value> {
        &self.fields
    }

    /// One field, if the provider has it.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.fields.get(name)
    }

    /// A text field, e.g. `c.text("api_key")`.
    ///
    /// # Panics
    /// If the provider has no text field `name` (a typo in a test), like indexing a map.
    pub fn text(&self, name: &str) -> &str {
        match self.fields.get(name) {
            Some(Value::String(s)) => s,
            _ => panic!("{} credentials have no text field `{name}`", self.provider),
        }
    }

    /// An integer field, e.g. `c.int("merchant_id")`.
    ///
    /// # Panics
    /// If the provider has no integer field `name`.
    pub fn int(&self, name: &str) -> i64 {
        match self.fields.get(name).and_then(Value::as_i64) {
            Some(n) => n,
            None => panic!(
                "{} credentials have no integer field `{name}`",
                self.provider
            ),
        }
    }

    /// A field of any shape, read as `T` (e.g. a list of `(email, password)` pairs);
    /// `None` when absent or of another shape.
    pub fn field<T: DeserializeOwned>(&self, name: &str) -> Option<T> {
        serde_json::from_value(self.fields.get(name)?.clone()).ok()
    }
}

/// `name=value` pairs, e.g. `api_key=… api_secret=…` (sandbox-only test values).
impl fmt::Display for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (k, v) in &self.fields {
            if !first {
                f.write_str(" ")?;
            }
            first = false;
            match v {
                Value::String(s) => write!(f, "{k}={s}")?,
                other => write!(f, "{k}={other}")?,
            }
        }
        Ok(())
    }
}

impl Serialize for Credentials {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = Map::with_capacity(self.fields.len() + 1);
        m.insert("provider".into(), Value::String(self.provider.to_string()));
        for (k, v) in &self.fields {
            m.insert(k.clone(), v.clone());
        }
        m.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Credentials {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut fields = Map::deserialize(d)?;
        let provider = match fields.remove("provider") {
            Some(Value::String(p)) => p.parse::<Provider>().map_err(serde::de::Error::custom)?,
            _ => return Err(serde::de::Error::missing_field("provider")),
        };
        Ok(Credentials { provider, fields })
    }
}

/// A fresh random secret: `prefix` and 24 letters or digits (for credential rotation).
pub(crate) fn random_secret(prefix: &str) -> String {
    use rand::Rng as _;
    let s: String = rand::rng()
        .sample_iter(&rand::distr::Alphanumeric)
        .take(24)
        .map(char::from)
        .collect();
    format!("{prefix}{s}")
}
