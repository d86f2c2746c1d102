//! Token signing and verification. Every key is parsed once per process.
//!
//! All keys here are SANDBOX-ONLY test material, public in the repository.

use std::sync::OnceLock;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rsa::RsaPrivateKey;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs1v15::SigningKey;
use rsa::signature::{SignatureEncoding, Signer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::Sha256;

use crate::provider::Provider;

/// The `env` claim of every token the sandbox issues.
pub const SANDBOX_ENV: &str = "sandbox";

// SANDBOX-ONLY keys (see keys/README.md). Never use them outside the sandbox.
const SANDBOX_RSA_PRIVATE_PEM: &str = include_str!("../keys/sandbox-rs256-private.pem");
pub(crate) const RSA_PUBLIC_PEM: &str = include_str!("../keys/sandbox-rs256-public.pem");
const FOREIGN_RSA_PRIVATE_PEM: &str = include_str!("../keys/foreign-rs256-private.pem");

/// The HS256 key of provider `p` (SANDBOX-ONLY, derived from its name).
fn hs_secret(p: Provider) -> Vec<u8> {
    format!("SANDBOX-ONLY {p} hs256 secret - not a real secret - 0001").into_bytes()
}
const FOREIGN_HS_SECRET: &[u8] = b"SANDBOX-ONLY foreign environment secret - used to forge tokens";

/// How a provider's tokens are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenFormat {
    /// A JWT signed with the provider's own HS256 sandbox key.
    Hs256,
    /// A JWT signed with the sandbox's RS256 key (public: [`RSA_PUBLIC_PEM`]).
    Rs256,
    /// A random string the sandbox remembers (its claims stay server-side).
    Opaque,
}

/// The JWT algorithm of a provider (`HS256` for opaque tokens: forgeries only).
pub(crate) fn algorithm(p: Provider) -> Algorithm {
    match p.token_format() {
        TokenFormat::Rs256 => Algorithm::RS256,
        TokenFormat::Hs256 | TokenFormat::Opaque => Algorithm::HS256,
    }
}

pub(crate) struct Keys {
    hs_enc: Vec<EncodingKey>,
    hs_dec: Vec<DecodingKey>,
    rsa_signer: SigningKey<Sha256>,
    rsa_dec: DecodingKey,
    foreign_hs_enc: EncodingKey,
    foreign_rsa_signer: SigningKey<Sha256>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(..)")
    }
}

fn build_keys() -> Keys {
    // These are compile-time constants checked by the tests: failing here is a build defect.
    let rsa_signer = SigningKey::<Sha256>::new(
        RsaPrivateKey::from_pkcs1_pem(SANDBOX_RSA_PRIVATE_PEM).expect("embedded sandbox RSA key"),
    );
    let foreign_rsa_signer = SigningKey::<Sha256>::new(
        RsaPrivateKey::from_pkcs1_pem(FOREIGN_RSA_PRIVATE_PEM).expect("embedded foreign RSA key"),
    );
    Keys {
        hs_enc: Provider::all()
            .map(|p| EncodingKey::from_secret(&hs_secret(p)))
            .collect(),
        hs_dec: Provider::all()
            .map(|p| DecodingKey::from_secret(&hs_secret(p)))
            .collect(),
        rsa_signer,
        rsa_dec: DecodingKey::from_rsa_pem(RSA_PUBLIC_PEM.as_bytes())
            .expect("embedded sandbox RSA public key"),
        foreign_hs_enc: EncodingKey::from_secret(FOREIGN_HS_SECRET),
        foreign_rsa_signer,
    }
}

pub(crate) fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(build_keys)
}

/// How the next issued token deviates from a normal one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum TokenMode {
    #[default]
    Normal,
    WithoutExp,
    Expired,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SignWith {
    Sandbox,
    Foreign,
}

/// A freshly issued token.
#[derive(Debug, Clone)]
pub(crate) struct Issued {
    pub token: String,
    pub jti: String,
    /// Expiry as the server reports it in bodies (== exp when there is one).
    pub nominal_exp: i64,
}

pub(crate) struct IssueSpec<'a> {
    pub provider: Provider,
    pub typ: &'a str,
    pub sub: &'a str,
    pub lifetime: Duration,
    pub mode: TokenMode,
    pub epoch: u64,
    pub now_secs: i64,
    pub extra: Map<String, Value>,
}

pub(crate) fn random_id() -> String {
    let b: [u8; 16] = rand::random();
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
        u16::from_be_bytes([b[4], b[5]]),
        u16::from_be_bytes([b[6], b[7]]) & 0x0fff,
        (u16::from_be_bytes([b[8], b[9]]) & 0x3fff) | 0x8000,
        u64::from_be_bytes([0, 0, b[10], b[11], b[12], b[13], b[14], b[15]]),
    )
}

/// `(iat, exp)` of a token issued at `now_secs` (an `Expired` one ended a minute ago).
pub(crate) fn validity(mode: TokenMode, lifetime: Duration, now_secs: i64) -> (i64, i64) {
    let lifetime = i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX / 4);
    match mode {
        TokenMode::Normal | TokenMode::WithoutExp => (now_secs, now_secs.saturating_add(lifetime)),
        TokenMode::Expired => {
            let exp = now_secs - 60;
            (exp.saturating_sub(lifetime), exp)
        }
    }
}

pub(crate) fn issue(spec: IssueSpec<'_>) -> Issued {
    issue_with(spec, SANDBOX_ENV, SignWith::Sandbox)
}

fn issue_with(spec: IssueSpec<'_>, env: &str, sign_with: SignWith) -> Issued {
    let (iat, exp) = validity(spec.mode, spec.lifetime, spec.now_secs);
    let jti = random_id();
    let mut claims = spec.extra;
    claims.insert("sub".into(), json!(spec.sub));
    claims.insert("jti".into(), json!(jti));
    claims.insert("iat".into(), json!(iat));
    if spec.mode != TokenMode::WithoutExp {
        claims.insert("exp".into(), json!(exp));
    }
    claims.insert("env".into(), json!(env));
    claims.insert("prv".into(), json!(spec.provider.as_str()));
    claims.insert("typ".into(), json!(spec.typ));
    claims.insert("sbx_epoch".into(), json!(spec.epoch));
    let token = sign(spec.provider, &Value::Object(claims), sign_with);
    Issued {
        token,
        jti,
        nominal_exp: exp,
    }
}

fn sign(p: Provider, claims: &Value, with: SignWith) -> String {
    let k = keys();
    match algorithm(p) {
        Algorithm::RS256 => {
            let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#);
            let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
            let signing_input = format!("{header}.{payload}");
            let signer = match with {
                SignWith::Sandbox => &k.rsa_signer,
                SignWith::Foreign => &k.foreign_rsa_signer,
            };
            let sig = signer.sign(signing_input.as_bytes()).to_vec();
            format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig))
        }
        alg => {
            let key = match with {
                SignWith::Sandbox => match k.hs_enc.get(p.index()) {
                    Some(key) => key,
                    None => return String::new(),
                },
                SignWith::Foreign => &k.foreign_hs_enc,
            };
            // HS256 with a valid key and JSON claims cannot fail.
            jsonwebtoken::encode(&Header::new(alg), claims, key).unwrap_or_default()
        }
    }
}

/// Why a presented token was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TokenError {
    Missing,
    /// Not a JWT, bad signature, wrong algorithm, other environment/provider/type.
    Invalid(&'static str),
    Revoked,
    Expired {
        exp: i64,
    },
}

/// Claims of a token whose signature, environment, provider and type were checked.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Verified {
    pub claims: Map<String, Value>,
    pub exp: Option<i64>,
    pub jti: String,
    pub epoch: u64,
}

impl Verified {
    pub fn sub(&self) -> &str {
        self.claims.get("sub").and_then(Value::as_str).unwrap_or("")
    }
    pub fn str_claim(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }
}

/// Checks signature, `env`, `prv`, `typ` and `exp` (against `now_secs`); not revocation.
pub(crate) fn verify(
    p: Provider,
    token: &str,
    typ: &str,
    now_secs: i64,
) -> Result<Verified, TokenError> {
    let token = presented(token)?;
    let k = keys();
    let alg = algorithm(p);
    let key = match alg {
        Algorithm::RS256 => &k.rsa_dec,
        _ => k
            .hs_dec
            .get(p.index())
            .ok_or(TokenError::Invalid("unknown provider"))?,
    };
    let mut v = Validation::new(alg);
    v.validate_exp = false;
    v.validate_aud = false;
    v.required_spec_claims.clear();
    let data = jsonwebtoken::decode::<Map<String, Value>>(token, key, &v)
        .map_err(|_| TokenError::Invalid("invalid signature"))?;
    let claims = data.claims;
    let get = |n: &str| claims.get(n).and_then(Value::as_str);
    if get("env") != Some(SANDBOX_ENV) {
        return Err(TokenError::Invalid("token issued for another environment"));
    }
    issued_for(get("prv") == Some(p.as_str()), get("typ") == Some(typ))?;
    let jti = get("jti").unwrap_or_default().to_owned();
    let epoch = claims.get("sbx_epoch").and_then(Value::as_u64).unwrap_or(0);
    let exp = match claims.get("exp") {
        None => None,
        Some(e) => Some(e.as_i64().ok_or(TokenError::Invalid("invalid exp claim"))?),
    };
    unexpired(exp, now_secs)?;
    Ok(Verified {
        claims,
        exp,
        jti,
        epoch,
    })
}

/// The token as presented, trimmed; `Missing` when there is none. The
/// first check of every token, a JWT or an opaque one.
pub(crate) fn presented(token: &str) -> Result<&str, TokenError> {
    match token.trim() {
        "" => Err(TokenError::Missing),
        token => Ok(token),
    }
}

/// Whether a token was issued by the provider it is presented to, and as
/// the type expected (access or refresh).
pub(crate) fn issued_for(by_this_provider: bool, of_this_type: bool) -> Result<(), TokenError> {
    if !by_this_provider {
        return Err(TokenError::Invalid("token issued by another provider"));
    }
    if !of_this_type {
        return Err(TokenError::Invalid("wrong token type"));
    }
    Ok(())
}

/// `Expired` at or after `exp` (none: never).
pub(crate) fn unexpired(exp: Option<i64>, now_secs: i64) -> Result<(), TokenError> {
    match exp {
        Some(exp) if now_secs >= exp => Err(TokenError::Expired { exp }),
        _ => Ok(()),
    }
}

/// Decodes a JWT's claims WITHOUT verifying anything (test helper).
pub fn peek_claims(token: &str) -> Option<Value> {
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Kinds of forged token that [`crate::Sandbox::forge_token`] produces. Each one looks like
/// a live token of the provider (fresh `iat`/`exp`, a real `sub`) but must be refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Forgery {
    /// Signed with a key the sandbox does not use (as if by another environment).
    WrongKey,
    /// Signed with the sandbox's own key but claiming `env: "production"`.
    OtherEnvironment,
    /// `alg: none`, no signature.
    AlgNone,
    /// A genuine token whose payload was edited after signing.
    Tampered,
}

pub(crate) fn forge(
    p: Provider,
    kind: Forgery,
    typ: &str,
    sub: &str,
    lifetime: Duration,
    epoch: u64,
    now_secs: i64,
) -> String {
    let spec = || IssueSpec {
        provider: p,
        typ,
        sub,
        lifetime,
        mode: TokenMode::Normal,
        epoch,
        now_secs,
        extra: Map::new(),
    };
    match kind {
        Forgery::WrongKey => issue_with(spec(), SANDBOX_ENV, SignWith::Foreign).token,
        Forgery::OtherEnvironment => issue_with(spec(), "production", SignWith::Sandbox).token,
        Forgery::AlgNone => {
            let genuine = issue(spec()).token;
            let payload = genuine.split('.').nth(1).unwrap_or_default().to_owned();
            let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
            format!("{header}.{payload}.")
        }
        Forgery::Tampered => {
            let genuine = issue(spec()).token;
            let mut parts = genuine.split('.');
            let (h, pl, s) = (
                parts.next().unwrap_or_default(),
                parts.next().unwrap_or_default(),
                parts.next().unwrap_or_default(),
            );
            let mut claims = URL_SAFE_NO_PAD
                .decode(pl)
                .ok()
                .and_then(|b| serde_json::from_slice::<Map<String, Value>>(&b).ok())
                .unwrap_or_default();
            claims.insert("sub".into(), json!(format!("{sub}-admin")));
            let pl2 = URL_SAFE_NO_PAD.encode(Value::Object(claims).to_string());
            format!("{h}.{pl2}.{s}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(p: Provider, mode: TokenMode) -> IssueSpec<'static> {
        IssueSpec {
            provider: p,
            typ: "access",
            sub: "someone",
            lifetime: Duration::from_secs(600),
            mode,
            epoch: 0,
            now_secs: 1_700_000_000,
            extra: Map::new(),
        }
    }

    /// The providers whose tokens are JWTs.
    fn jwt_providers() -> impl Iterator<Item = Provider> {
        Provider::all().filter(|p| p.token_format() != TokenFormat::Opaque)
    }

    fn provider_with(format: TokenFormat) -> Provider {
        Provider::all()
            .find(|p| p.token_format() == format)
            .expect("a provider with that token format")
    }

    #[test]
    fn roundtrip_all_providers() {
        for p in jwt_providers() {
            let t = issue(spec(p, TokenMode::Normal));
            let v = verify(p, &t.token, "access", 1_700_000_001).unwrap();
            assert_eq!(v.sub(), "someone");
            assert_eq!(v.exp, Some(1_700_000_600));
            assert_eq!(
                verify(p, &t.token, "access", 1_700_000_600),
                Err(TokenError::Expired { exp: 1_700_000_600 })
            );
        }
    }

    #[test]
    fn forgeries_are_refused() {
        for p in jwt_providers() {
            for kind in [
                Forgery::WrongKey,
                Forgery::OtherEnvironment,
                Forgery::AlgNone,
                Forgery::Tampered,
            ] {
                let t = forge(
                    p,
                    kind,
                    "access",
                    "x",
                    Duration::from_secs(600),
                    0,
                    1_700_000_000,
                );
                assert!(
                    matches!(
                        verify(p, &t, "access", 1_700_000_001),
                        Err(TokenError::Invalid(_))
                    ),
                    "{p} {kind:?}"
                );
            }
        }
    }

    #[test]
    fn rs256_interoperates_with_jsonwebtoken() {
        let p = provider_with(TokenFormat::Rs256);
        let t = issue(spec(p, TokenMode::Normal));
        let key = DecodingKey::from_rsa_pem(RSA_PUBLIC_PEM.as_bytes()).unwrap();
        let mut v = Validation::new(Algorithm::RS256);
        v.validate_exp = false;
        jsonwebtoken::decode::<Value>(&t.token, &key, &v).unwrap();
    }

    #[test]
    fn modes() {
        let p = provider_with(TokenFormat::Hs256);
        let t = issue(spec(p, TokenMode::WithoutExp));
        assert!(peek_claims(&t.token).unwrap().get("exp").is_none());
        assert!(verify(p, &t.token, "access", 1_900_000_000).is_ok());
        let t = issue(spec(p, TokenMode::Expired));
        assert!(matches!(
            verify(p, &t.token, "access", 1_700_000_000),
            Err(TokenError::Expired { .. })
        ));
    }
}
