//! Everything asked of "the providers": looked up in the one list, `providers::REGISTRY`.

use std::str::FromStr;
use std::sync::OnceLock;

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::config::AnyConfig;
use crate::error::SandboxError;
use crate::jwt::TokenFormat;
use crate::plugin::{Endpoint, Plugin};
use crate::provider::Provider;
use crate::providers::REGISTRY;
use crate::route::{Route, normalise};
use crate::state::Inner;
use crate::variant::Variant;

impl Provider {
    /// Every emulated provider, in registration order.
    pub fn all() -> impl ExactSizeIterator<Item = Provider> + Clone {
        REGISTRY.iter().map(|p| p.provider())
    }

    /// Its place in [`Provider::all`].
    pub(crate) fn index(self) -> usize {
        REGISTRY
            .iter()
            .position(|p| p.provider().as_str() == self.as_str())
            .unwrap_or(usize::MAX)
    }

    pub(crate) fn plugin(self) -> Option<&'static dyn Plugin> {
        REGISTRY.get(self.index()).copied()
    }

    /// Path of the provider's base URL below the sandbox root (shaped like the real base URL).
    pub fn base_path(self) -> &'static str {
        self.plugin().map_or("", |p| p.base_path())
    }

    pub(crate) fn endpoints(self) -> &'static [Endpoint] {
        self.plugin().map_or(&[], |p| p.endpoints())
    }

    /// Routes this provider offers (others cannot have faults injected).
    pub fn routes(self) -> &'static [Route] {
        static ROUTES: OnceLock<Vec<Vec<Route>>> = OnceLock::new();
        let all = ROUTES.get_or_init(|| {
            REGISTRY
                .iter()
                .map(|p| p.endpoints().iter().map(|e| e.route).collect())
                .collect()
        });
        all.get(self.index()).map_or(&[], Vec::as_slice)
    }

    /// Path of `route` relative to the base URL, if the provider offers it.
    pub fn route_path(self, route: Route) -> Option<&'static str> {
        self.endpoints()
            .iter()
            .find(|e| e.route == route)
            .map(|e| e.path)
    }

    /// The route's place among the provider's routes, if it offers it.
    pub(crate) fn route_index(self, route: Route) -> Option<usize> {
        self.endpoints().iter().position(|e| e.route == route)
    }

    pub(crate) fn token_format(self) -> TokenFormat {
        self.plugin()
            .map_or(TokenFormat::Hs256, |p| p.token_format())
    }

    /// The provider's response-shape variants (most have none).
    pub fn variants(self) -> &'static [Variant] {
        self.plugin().map_or(&[], |p| p.variants())
    }

    pub(crate) fn default_config(self) -> Option<Box<dyn AnyConfig>> {
        self.plugin().map(|p| p.default_config())
    }

    pub(crate) fn parse_config(self, v: Value) -> Result<Box<dyn AnyConfig>, String> {
        match self.plugin() {
            Some(p) => p.parse_config(v),
            None => Err(format!("unknown provider {self}")),
        }
    }

    /// The secret the provider's signed requests are signed with, if it signs any.
    pub(crate) fn signing_secret(self, st: &Inner) -> Option<String> {
        self.plugin().and_then(|p| p.signing_secret(st))
    }

    /// Moves the provider's object `id` to `status` and sends its callback
    /// (`Sandbox::settle`). A status is a word: letters, digits, `_`, `-`, at most 40.
    pub(crate) fn settle(self, st: &Inner, id: &str, status: &str) -> Result<(), SandboxError> {
        let word = (1..=40).contains(&status.len())
            && status
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !word {
            return Err(SandboxError::CannotSettle {
                provider: self,
                reason: "a status is one word of letters, digits, `_` or `-`".into(),
            });
        }
        match self.plugin() {
            Some(p) => p.settle(st, id, status),
            None => Err(SandboxError::UnknownProvider(self.to_string())),
        }
    }
}

impl Route {
    /// Every route some provider offers, each once, in registration order.
    pub(crate) fn all() -> Vec<Route> {
        let mut out: Vec<Route> = Vec::new();
        for r in REGISTRY.iter().flat_map(|p| p.endpoints()).map(|e| e.route) {
            if !out.contains(&r) {
                out.push(r);
            }
        }
        out
    }
}

impl FromStr for Provider {
    type Err = SandboxError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Provider::all()
            .find(|p| p.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| SandboxError::UnknownProvider(s.to_owned()))
    }
}

impl FromStr for Route {
    type Err = SandboxError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let norm = normalise(s);
        Route::all()
            .into_iter()
            .find(|r| normalise(r.as_str()) == norm)
            .ok_or_else(|| SandboxError::UnknownRoute(s.to_owned()))
    }
}

impl FromStr for Variant {
    type Err = SandboxError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let norm = normalise(s);
        Provider::all()
            .flat_map(Provider::variants)
            .copied()
            .find(|v| normalise(v.as_str()) == norm)
            .ok_or_else(|| SandboxError::UnknownVariant(s.to_owned()))
    }
}

fn from_name<'de, D: Deserializer<'de>, T: FromStr<Err = SandboxError>>(
    d: D,
) -> Result<T, D::Error> {
    let s = String::deserialize(d)?;
    s.parse().map_err(serde::de::Error::custom)
}

impl<'de> Deserialize<'de> for Provider {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        from_name(d)
    }
}

impl<'de> Deserialize<'de> for Route {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        from_name(d)
    }
}

impl<'de> Deserialize<'de> for Variant {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        from_name(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_base_paths_and_routes_are_unique() {
        let names: Vec<_> = Provider::all().map(Provider::as_str).collect();
        let mut dedup = names.clone();
        dedup.sort_unstable();
        dedup.dedup();
        assert_eq!(names.len(), dedup.len(), "{names:?}");
        for p in Provider::all() {
            assert!(p.base_path().starts_with('/'), "{p}");
            assert!(!p.base_path().starts_with("/__sandbox"), "{p}");
            assert!(p.routes().contains(&Route::Login), "{p} has no login");
            assert!(
                p.routes().contains(&Route::Protected),
                "{p} has no protected route"
            );
            let mut routes = p.routes().to_vec();
            routes.sort_unstable();
            routes.dedup();
            assert_eq!(routes.len(), p.routes().len(), "{p} lists a route twice");
            for v in p.variants() {
                assert_eq!(v.provider(), p, "{v}");
            }
        }
    }

    #[test]
    fn each_provider_has_a_configuration_of_its_own_type() {
        let cfg = crate::config::SandboxConfig::default();
        let types: Vec<_> = Provider::all()
            .map(|p| {
                let c = cfg.providers().of(p).expect("a configuration");
                assert_eq!(c.provider(), p);
                assert_eq!(c.credentials().provider(), p);
                c.as_any().type_id()
            })
            .collect();
        let mut dedup = types.clone();
        dedup.sort_unstable();
        dedup.dedup();
        assert_eq!(types.len(), dedup.len());
        cfg.validate().expect("the default configuration is valid");
    }

    #[test]
    fn names_parse_back() {
        for p in Provider::all() {
            assert_eq!(p.as_str().parse::<Provider>(), Ok(p));
            assert_eq!(p.as_str().to_uppercase().parse::<Provider>(), Ok(p));
            for &r in p.routes() {
                assert_eq!(r.as_str().parse::<Route>(), Ok(r));
            }
            for &v in p.variants() {
                assert_eq!(v.as_str().parse::<Variant>(), Ok(v));
            }
        }
        assert!("nobody".parse::<Provider>().is_err());
        assert!("nowhere".parse::<Route>().is_err());
    }
}
