//! pledg: OAuth2 client credentials. `POST {base}/api/token`, HTTP Basic (key:secret),
//! form body `grant_type=client_credentials` → `{access_token, token_type, expires_in}`;
//! HS256 tokens of 600 s. Errors in RFC 6749 shape `{"error", "error_description"}`.
//! Purchase links are signed with the merchant's secret key; notifications too, posted to
//! the link's `notification_url` when its purchase changes (`Sandbox::settle`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use axum::http::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::callback::SignedCallback;
use crate::config::{AnyConfig, at_least_a_second, default_of, parse_of, sealed::ConfigImpl};
use crate::credentials::{Credentials, random_secret};
use crate::emulation::callbacks::Outgoing;
use crate::emulation::check::{self, Kind, Rule, STR, str_len};
use crate::emulation::oauth2::{ClientAuth, ClientCredentials};
use crate::error::SandboxError;
use crate::handle::Sandbox;
use crate::http::reply::Reply;
use crate::http::request::{BodyError, Ctx};
use crate::plugin::{Endpoint, Plugin, handler};
use crate::provider::Provider;
use crate::route::Route;
use crate::signatures::{SignatureError, ct_eq, sign_hs256, verify_hs256};
use crate::state::{Inner, MAX_PER_KIND};
use crate::sync::lock;

#[allow(non_upper_case_globals)] // read like the enum variant it replaced
impl Provider {
    /// The emulated pledg.
    pub const Pledg: Provider = Provider::named("pledg");
}

#[allow(non_upper_case_globals)]
impl Route {
    /// pledg `POST /api/purchase_link/` (signed).
    pub const PurchaseLink: Route = Route::named("purchase_link");
}

/// pledg: OAuth2 client credentials, HS256 token of 600 s.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PledgConfig {
    /// The API key (the token call's Basic user).
    pub api_key: String,
    /// The API secret (the token call's Basic password).
    pub api_secret: String,
    /// How long a token lives (default 600 s).
    pub token_lifetime: Duration,
    /// The merchant's secret key: verifies `signature` JWTs, signs notifications.
    pub secret_key: String,
    /// Merchant uid whose purchase links the secret key may sign.
    pub merchant_uid: String,
    /// Merchant-dashboard credentials (HTTP Basic).
    pub dashboard_user: String,
    /// The merchant-dashboard password (HTTP Basic).
    pub dashboard_password: String,
}

impl Default for PledgConfig {
    fn default() -> Self {
        PledgConfig {
            api_key: "sbx_pledg_api_key".into(),
            api_secret: "sbx_pledg_api_secret".into(),
            token_lifetime: Duration::from_secs(600),
            secret_key: "sbx_pledg_merchant_secret_key".into(),
            merchant_uid: "mer_sandbox_001".into(),
            dashboard_user: "dashboard@sandbox-pledg.test".into(),
            dashboard_password: "Dashboard-Passw0rd-1".into(),
        }
    }
}

impl ConfigImpl for PledgConfig {
    const PROVIDER: Provider = Provider::Pledg;
    fn credentials(&self) -> Credentials {
        Credentials::new(Provider::Pledg)
            .with("api_key", self.api_key.as_str())
            .with("api_secret", self.api_secret.as_str())
    }
    fn rotate_secrets(&mut self) {
        self.api_secret = random_secret("sbx_pledg_secret_");
    }
    fn token_lifetime(&self) -> Duration {
        self.token_lifetime
    }
    fn set_token_lifetime(&mut self, d: Duration) {
        self.token_lifetime = d;
    }
    fn validate(&self) -> Result<(), String> {
        at_least_a_second("token_lifetime", self.token_lifetime)
    }
}

/// The client-credentials profile of the token endpoint.
const OAUTH: ClientCredentials = ClientCredentials {
    provider: Provider::Pledg,
    realm: "pledg",
    client_auth: ClientAuth::Basic,
    issuer: "https://sandbox.pledg.test",
};

pub(crate) struct Pledg;

const ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        route: Route::Login,
        method: Method::POST,
        path: "/api/token",
        handler: handler!(token),
    },
    Endpoint {
        route: Route::Protected,
        method: Method::GET,
        path: "/sandbox/protected",
        handler: handler!(protected),
    },
    Endpoint {
        route: Route::PurchaseLink,
        method: Method::POST,
        path: "/api/purchase_link/",
        handler: handler!(purchase_link),
    },
];

impl Plugin for Pledg {
    fn provider(&self) -> Provider {
        Provider::Pledg
    }
    fn base_path(&self) -> &'static str {
        "/pledg"
    }
    fn endpoints(&self) -> &'static [Endpoint] {
        ENDPOINTS
    }
    fn default_config(&self) -> Box<dyn AnyConfig> {
        default_of::<PledgConfig>()
    }
    fn parse_config(&self, v: Value) -> Result<Box<dyn AnyConfig>, String> {
        parse_of::<PledgConfig>(v)
    }
    fn error(&self, r: Option<Route>, status: StatusCode, message: &str) -> Reply {
        let code = match status.as_u16() {
            401 if r == Some(Route::Login) => "invalid_client",
            401 => "invalid_token",
            403 => "insufficient_scope",
            404 => "not_found",
            429 | 503 => "temporarily_unavailable",
            s if s >= 500 => "server_error",
            _ => "invalid_request",
        };
        error(status, code, message)
    }
    fn forged_subject(&self, st: &Inner) -> String {
        st.live(|c: &PledgConfig| c.api_key.clone())
    }
    fn login_example(&self, base: &str, c: &Credentials) -> String {
        format!(
            "curl -s -X POST '{base}/api/token' -u '{}:{}' \
             -H 'Content-Type: application/x-www-form-urlencoded' -d 'grant_type=client_credentials'",
            c.text("api_key"),
            c.text("api_secret")
        )
    }
    fn settle(&self, st: &Inner, uid: &str, status: &str) -> Result<(), SandboxError> {
        let link = lock(&st.store::<Links>().0)
            .get(uid)
            .cloned()
            .ok_or_else(|| SandboxError::UnknownObject {
                provider: Provider::Pledg,
                id: uid.to_owned(),
            })?;
        if let Some(url) = link.notification_url
            && let Some(body) = notification(st, uid, status)
        {
            st.send_callback(Outgoing {
                provider: Provider::Pledg,
                object: uid.to_owned(),
                status: status.to_owned(),
                url,
                callback: SignedCallback {
                    body,
                    headers: vec![("content-type".into(), "application/json".into())],
                },
            });
        }
        Ok(())
    }
    fn signing_material(&self, st: &Inner) -> Vec<(&'static str, Value)> {
        st.live(|c: &PledgConfig| {
            vec![
                ("pledg_secret_key", json!(c.secret_key)),
                ("pledg_merchant_uid", json!(c.merchant_uid)),
            ]
        })
    }

    fn signing_secret(&self, st: &Inner) -> Option<String> {
        Some(st.live(|c: &PledgConfig| c.secret_key.clone()))
    }
}

fn error(status: StatusCode, code: &str, description: &str) -> Reply {
    OAUTH.error(status, code, description)
}

fn invalid_request(description: &str) -> Reply {
    OAUTH.invalid_request(description)
}

async fn token(st: &Inner, ctx: Ctx) -> Reply {
    let (key, secret, lifetime) =
        st.live(|c: &PledgConfig| (c.api_key.clone(), c.api_secret.clone(), c.token_lifetime));
    OAUTH
        .token(st, ctx, lifetime, |id, s| id == key && s == secret)
        .await
}

async fn protected(st: &Inner, ctx: Ctx) -> Reply {
    // Dashboard credentials (HTTP Basic) are the other mechanism this route
    // accepts: the pages name no endpoint for them.
    if let Some((user, password)) = ctx.basic() {
        let ok = st.live(|c: &PledgConfig| {
            ct_eq(user.as_bytes(), c.dashboard_user.as_bytes())
                & ct_eq(password.as_bytes(), c.dashboard_password.as_bytes())
        });
        return if ok {
            Reply::ok(json!({"ok": true, "sub": user, "provider": "pledg",
                             "mechanism": "dashboard_basic"}))
            .authenticated()
        } else {
            error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "Dashboard authentication failed",
            )
        };
    }
    match OAUTH.bearer(st, &ctx).await {
        Ok(v) => {
            Reply::ok(json!({"ok": true, "sub": v.sub(), "provider": "pledg"})).authenticated()
        }
        Err(r) => r,
    }
}

/// The purchase links created: uid → link.
#[derive(Debug, Default)]
struct Links(Mutex<HashMap<String, Link>>);

#[derive(Debug, Clone)]
struct Link {
    /// As answered.
    answer: Value,
    /// Where its notifications go.
    notification_url: Option<String>,
}

const PURCHASE_RULES: &[Rule] = &[
    ("merchant_uid", str_len(1, usize::MAX), true),
    ("title", str_len(1, usize::MAX), true),
    ("reference", str_len(1, usize::MAX), true),
    (
        "amount_cents",
        Kind::Int {
            min: 1,
            max: i64::MAX,
        },
        true,
    ),
    ("currency", str_len(3, 3), true),
    ("email", STR, false),
    ("notification_url", STR, false),
    ("purchase_link_settings", Kind::Object, false),
];

const SETTINGS_RULES: &[Rule] = &[("expiration_days", Kind::Int { min: 1, max: 365 }, false)];

/// `POST /api/purchase_link/?signature=<jwt>`: the JWT (HS256, merchant's secret key) must
/// verify and be unexpired; its signed `data` is the purchase. The documented request
/// carries only the query parameter; a JSON body, when one is sent, must equal `data`
/// (our assumption).
async fn purchase_link(st: &Inner, ctx: Ctx) -> Reply {
    let bad_signature =
        |d: &str| error(StatusCode::UNAUTHORIZED, "invalid_signature", d).decided(d.to_lowercase());
    let Some(signature) = ctx.query("signature") else {
        return bad_signature("The signature parameter is required");
    };
    let (secret_key, merchant_uid) =
        st.live(|c: &PledgConfig| (c.secret_key.clone(), c.merchant_uid.clone()));
    let mut claims = match verify_hs256(&secret_key, &signature, st.now_secs()) {
        Ok(c) => c,
        Err(SignatureError::Expired) => return bad_signature("The signature has expired"),
        Err(SignatureError::Missing) => {
            return bad_signature("The signature parameter is required");
        }
        Err(SignatureError::Invalid) => return bad_signature("The signature does not verify"),
    };
    let data = claims.remove("data");
    let body = if ctx.body.iter().all(u8::is_ascii_whitespace) {
        match data {
            Some(Value::Object(o)) => o,
            _ => {
                return invalid_request("The signed data must be a JSON object").authenticated();
            }
        }
    } else {
        let body = match ctx.json_object() {
            Ok(o) => o,
            Err(BodyError::ContentType) => {
                return invalid_request("Content-Type must be application/json").authenticated();
            }
            Err(BodyError::NotObject) => {
                return invalid_request("The body must be a JSON object").authenticated();
            }
            Err(BodyError::Unparseable(e)) => return invalid_request(&e).authenticated(),
        };
        if data.as_ref() != Some(&Value::Object(body.clone())) {
            return invalid_request("The body differs from the signed data").authenticated();
        }
        body
    };
    let checked = check::fields(&body, PURCHASE_RULES).and_then(|()| {
        match check::object(&body, "purchase_link_settings") {
            Some(settings) => check::fields(settings, SETTINGS_RULES)
                .map_err(|(f, m)| (format!("purchase_link_settings.{f}"), m)),
            None => Ok(()),
        }
    });
    if let Err((field, message)) = checked {
        return invalid_request(&format!("{field} {message}")).authenticated();
    }
    if body.get("merchant_uid").and_then(Value::as_str) != Some(merchant_uid.as_str()) {
        return error(
            StatusCode::UNAUTHORIZED,
            "invalid_signature",
            "The secret key does not belong to this merchant",
        );
    }
    let store = st.store::<Links>();
    let mut links = lock(&store.0);
    if links.len() >= MAX_PER_KIND {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "Too many purchase links",
        );
    }
    let uid = st.next_id("pl_");
    let link = json!({
        "uid": uid,
        "url": format!("https://staging.front.ecard.pledg.co/purchase/{uid}"),
        "merchant_uid": body["merchant_uid"],
        "reference": body["reference"],
        "amount_cents": body["amount_cents"],
        "currency": body["currency"],
    });
    let notification_url = body
        .get("notification_url")
        .and_then(Value::as_str)
        .map(str::to_owned);
    links.insert(
        uid.clone(),
        Link {
            answer: link.clone(),
            notification_url,
        },
    );
    drop(links);
    st.count_created(Provider::Pledg);
    Reply::ok(link)
        .decided(format!("created {uid}"))
        .authenticated()
}

/// A signed notification `{"signature": <jwt>}` about purchase link `uid`:
/// HS256 with the merchant's secret key, claims `{id, reference, status,
/// iat, exp}` (one day, like the request signatures).
fn notification(st: &Inner, uid: &str, status: &str) -> Option<Vec<u8>> {
    let link = lock(&st.store::<Links>().0)
        .get(uid)
        .map(|l| l.answer.clone())?;
    let now = st.now_secs();
    let claims = json!({
        "id": uid,
        "reference": link["reference"],
        "status": status,
        "amount_cents": link["amount_cents"],
        "iat": now,
        "exp": now + 86_400,
    });
    let jwt = sign_hs256(&st.live(|c: &PledgConfig| c.secret_key.clone()), &claims);
    Some(json!({"signature": jwt}).to_string().into_bytes())
}

impl Sandbox {
    /// The merchant's secret key of pledg (request signatures, notifications).
    pub fn pledg_secret_key(&self) -> String {
        self.inner.live(|c: &PledgConfig| c.secret_key.clone())
    }

    /// pledg's merchant uid (purchase links must name it).
    pub fn pledg_merchant_uid(&self) -> String {
        self.inner.live(|c: &PledgConfig| c.merchant_uid.clone())
    }

    /// pledg's merchant-dashboard user and password (HTTP Basic).
    pub fn pledg_dashboard(&self) -> (String, String) {
        self.inner
            .live(|c: &PledgConfig| (c.dashboard_user.clone(), c.dashboard_password.clone()))
    }

    /// pledg's signed notification `{"signature": <jwt>}` about purchase
    /// link `uid` with `status`, or `None` for an unknown link.
    pub fn pledg_notification(&self, uid: &str, status: &str) -> Option<SignedCallback> {
        let body = notification(&self.inner, uid, status)?;
        Some(SignedCallback {
            body,
            headers: vec![("content-type".into(), "application/json".into())],
        })
    }
}
