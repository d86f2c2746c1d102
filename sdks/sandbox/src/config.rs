//! Sandbox configuration: bind address, body limit, callbacks, and one configuration per
//! provider (accounts, token lifetimes, response variants), each defined in its provider's
//! module.

use std::any::Any;
use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::callback_config::CallbackSettings;
use crate::credentials::Credentials;
use crate::error::SandboxError;
use crate::provider::Provider;
use crate::variant::Variant;

/// Whole-sandbox configuration. `Default` gives every provider's documented lifetimes and
/// default test credentials, and an ephemeral port on 127.0.0.1.
///
/// A provider's own part is reached by its type:
/// ```
/// use std::time::Duration;
/// use payauth_sandbox::{PledgConfig, SandboxConfig};
/// let mut cfg = SandboxConfig::default();
/// cfg.provider_mut::<PledgConfig>().token_lifetime = Duration::from_secs(5);
/// ```
/// JSON: `{"bind", "max_body_bytes", "callbacks": {…}, "<provider>": {…}, …}`; a part left
/// out keeps its defaults.
#[derive(Clone, PartialEq)]
pub struct SandboxConfig {
    /// Listen address (default `127.0.0.1:0`, an ephemeral port).
    pub bind: SocketAddr,
    /// Largest request body accepted (bigger bodies get the provider's 400).
    pub max_body_bytes: usize,
    /// Where and how the providers' callbacks are sent.
    pub callbacks: CallbackSettings,
    providers: ProviderConfigs,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            max_body_bytes: 1024 * 1024,
            callbacks: CallbackSettings::default(),
            providers: ProviderConfigs::defaults(),
        }
    }
}

impl fmt::Debug for SandboxConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("SandboxConfig");
        d.field("bind", &self.bind)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("callbacks", &self.callbacks);
        for (p, c) in &self.providers.0 {
            d.field(p.as_str(), c);
        }
        d.finish()
    }
}

impl SandboxConfig {
    /// Default configuration listening on `127.0.0.1:port`.
    pub fn with_port(port: u16) -> Self {
        SandboxConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], port)),
            ..Self::default()
        }
    }

    /// The configuration of the provider `C` configures, e.g. `cfg.provider::<PledgConfig>()`.
    pub fn provider<C: ProviderConfig>(&self) -> &C {
        self.providers.get::<C>()
    }

    /// The configuration of the provider `C` configures, to change.
    pub fn provider_mut<C: ProviderConfig>(&mut self) -> &mut C {
        self.providers.get_mut::<C>()
    }

    /// The lifetime of `p`'s access tokens.
    pub fn token_lifetime(&self, p: Provider) -> Duration {
        self.providers
            .0
            .get(&p)
            .map(|c| c.token_lifetime())
            .unwrap_or_default()
    }

    /// Sets the lifetime of `p`'s access tokens.
    pub fn set_token_lifetime(&mut self, p: Provider, d: Duration) {
        if let Some(c) = self.providers.0.get_mut(&p) {
            c.set_token_lifetime(d);
        }
    }

    pub(crate) fn providers(&self) -> &ProviderConfigs {
        &self.providers
    }

    pub(crate) fn validate(&self) -> Result<(), SandboxError> {
        self.callbacks
            .validate()
            .map_err(SandboxError::InvalidConfig)?;
        for (p, c) in &self.providers.0 {
            if c.provider() != *p {
                return Err(SandboxError::InvalidConfig(format!(
                    "{p}'s configuration is {}'s",
                    c.provider()
                )));
            }
            if let Some(v) = c.variant()
                && v.provider() != *p
            {
                return Err(SandboxError::InvalidConfig(format!(
                    "{p}.variant must be one of {p}'s variants, not {v}"
                )));
            }
            c.validate()
                .map_err(|e| SandboxError::InvalidConfig(format!("{p}.{e}")))?;
        }
        Ok(())
    }
}

/// `"{field} must be at least one second"` when `d` is shorter.
pub(crate) fn at_least_a_second(field: &str, d: Duration) -> Result<(), String> {
    if d.as_secs() == 0 {
        return Err(format!("{field} must be at least one second"));
    }
    Ok(())
}

/// The configuration type of one provider (`ExiromConfig`, `PledgConfig`, …). Sealed:
/// only the providers' modules implement it.
pub trait ProviderConfig: sealed::ConfigImpl {}

impl<C: sealed::ConfigImpl> ProviderConfig for C {}

#[doc(hidden)]
pub(crate) mod sealed {
    use super::*;

    /// What the sandbox asks of a provider's configuration.
    pub trait ConfigImpl:
        Any + fmt::Debug + Clone + PartialEq + Default + Send + Sync + Serialize + DeserializeOwned
    {
        /// The provider it configures.
        const PROVIDER: Provider;
        /// The working credentials it holds.
        fn credentials(&self) -> Credentials;
        /// Replaces the secrets (passwords, keys); identifiers stay.
        fn rotate_secrets(&mut self);
        /// The access tokens' lifetime.
        fn token_lifetime(&self) -> Duration;
        fn set_token_lifetime(&mut self, d: Duration);
        /// `Err("field must …")` for a value the provider cannot run with.
        fn validate(&self) -> Result<(), String>;
        /// The response-shape variant, for a provider that has some.
        fn variant(&self) -> Option<Variant> {
            None
        }
        fn set_variant(&mut self, _v: Variant) {}
    }
}

use sealed::ConfigImpl;

/// A provider's configuration behind a type-erased box.
pub(crate) trait AnyConfig: Any + fmt::Debug + Send + Sync {
    fn provider(&self) -> Provider;
    fn clone_box(&self) -> Box<dyn AnyConfig>;
    fn same_as(&self, other: &dyn AnyConfig) -> bool;
    fn to_json(&self) -> Value;
    fn credentials(&self) -> Credentials;
    fn rotate_secrets(&mut self);
    fn token_lifetime(&self) -> Duration;
    fn set_token_lifetime(&mut self, d: Duration);
    fn validate(&self) -> Result<(), String>;
    fn variant(&self) -> Option<Variant>;
    fn set_variant(&mut self, v: Variant);
    fn as_any(&self) -> &dyn Any;
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

impl<C: ConfigImpl> AnyConfig for C {
    fn provider(&self) -> Provider {
        C::PROVIDER
    }
    fn clone_box(&self) -> Box<dyn AnyConfig> {
        Box::new(self.clone())
    }
    fn same_as(&self, other: &dyn AnyConfig) -> bool {
        other.as_any().downcast_ref::<C>() == Some(self)
    }
    fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
    fn credentials(&self) -> Credentials {
        ConfigImpl::credentials(self)
    }
    fn rotate_secrets(&mut self) {
        ConfigImpl::rotate_secrets(self)
    }
    fn token_lifetime(&self) -> Duration {
        ConfigImpl::token_lifetime(self)
    }
    fn set_token_lifetime(&mut self, d: Duration) {
        ConfigImpl::set_token_lifetime(self, d)
    }
    fn validate(&self) -> Result<(), String> {
        ConfigImpl::validate(self)
    }
    fn variant(&self) -> Option<Variant> {
        ConfigImpl::variant(self)
    }
    fn set_variant(&mut self, v: Variant) {
        ConfigImpl::set_variant(self, v)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

impl Clone for Box<dyn AnyConfig> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}

/// A provider's default configuration, boxed (for the registry).
pub(crate) fn default_of<C: ConfigImpl>() -> Box<dyn AnyConfig> {
    Box::new(C::default())
}

/// A provider's configuration read from JSON, boxed (for the registry).
pub(crate) fn parse_of<C: ConfigImpl>(v: Value) -> Result<Box<dyn AnyConfig>, String> {
    serde_json::from_value::<C>(v)
        .map(|c| Box::new(c) as Box<dyn AnyConfig>)
        .map_err(|e| e.to_string())
}

/// One configuration per registered provider, always all of them.
#[derive(Debug, Clone)]
pub(crate) struct ProviderConfigs(BTreeMap<Provider, Box<dyn AnyConfig>>);

impl PartialEq for ProviderConfigs {
    fn eq(&self, other: &Self) -> bool {
        self.0.len() == other.0.len()
            && self
                .0
                .iter()
                .all(|(p, c)| other.0.get(p).is_some_and(|o| c.same_as(o.as_ref())))
    }
}

impl ProviderConfigs {
    fn defaults() -> Self {
        ProviderConfigs(
            Provider::all()
                .filter_map(|p| Some((p, p.default_config()?)))
                .collect(),
        )
    }

    /// `C`'s configuration. Every registered provider has one of its own type (the
    /// registry's unit test checks it), so the lookup cannot miss.
    pub(crate) fn get<C: ConfigImpl>(&self) -> &C {
        self.0
            .get(&C::PROVIDER)
            .and_then(|c| c.as_any().downcast_ref::<C>())
            .expect("every registered provider has its own configuration type")
    }

    pub(crate) fn get_mut<C: ConfigImpl>(&mut self) -> &mut C {
        self.0
            .entry(C::PROVIDER)
            .or_insert_with(default_of::<C>)
            .as_any_mut()
            .downcast_mut::<C>()
            .expect("every registered provider has its own configuration type")
    }

    pub(crate) fn of(&self, p: Provider) -> Option<&dyn AnyConfig> {
        self.0.get(&p).map(|c| c.as_ref())
    }

    pub(crate) fn of_mut(&mut self, p: Provider) -> Option<&mut Box<dyn AnyConfig>> {
        self.0.get_mut(&p)
    }
}

impl Serialize for SandboxConfig {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = Map::new();
        m.insert("bind".into(), Value::String(self.bind.to_string()));
        m.insert("max_body_bytes".into(), Value::from(self.max_body_bytes));
        m.insert(
            "callbacks".into(),
            serde_json::to_value(&self.callbacks).unwrap_or(Value::Null),
        );
        for (p, c) in &self.providers.0 {
            m.insert(p.to_string(), c.to_json());
        }
        m.serialize(s)
    }
}

impl<'de> Deserialize<'de> for SandboxConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut cfg = SandboxConfig::default();
        for (k, v) in Map::deserialize(d)? {
            match k.as_str() {
                "bind" => cfg.bind = serde_json::from_value(v).map_err(D::Error::custom)?,
                "max_body_bytes" => {
                    cfg.max_body_bytes = serde_json::from_value(v).map_err(D::Error::custom)?
                }
                "callbacks" => {
                    cfg.callbacks = serde_json::from_value(v)
                        .map_err(|e| D::Error::custom(format!("callbacks: {e}")))?
                }
                name => {
                    let p = name.parse::<Provider>().map_err(D::Error::custom)?;
                    let c = p
                        .parse_config(v)
                        .map_err(|e| D::Error::custom(format!("{p}: {e}")))?;
                    cfg.providers.0.insert(p, c);
                }
            }
        }
        Ok(cfg)
    }
}
