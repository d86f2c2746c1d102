//! institution: `POST /v2/auth/login` (header `merchant_id`, `{token: email, password}`),
//! `POST /v2/auth/refresh` (the same refresh token again by default, as the pages' samples
//! show; rotating ones as a setting), `POST /v2/customer/create` (Bearer or `Api-key`).
//! RS256 tokens. Errors: `{"errors": [{"code", "message": str | object}]}`.

use std::time::Duration;

use axum::http::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::config::{AnyConfig, at_least_a_second, default_of, parse_of, sealed::ConfigImpl};
use crate::credentials::{Credentials, random_secret};
use crate::http::reply::Reply;
use crate::http::request::{Bearer, BodyError, Ctx, str_field};
use crate::jwt::{RSA_PUBLIC_PEM, TokenError, TokenFormat, TokenMode, random_id};
use crate::plugin::{Endpoint, Plugin, handler};
use crate::provider::Provider;
use crate::route::Route;
use crate::state::Inner;
use crate::time_format::rfc3339_millis;

#[allow(non_upper_case_globals)] // read like the enum variant it replaced
impl Provider {
    /// The emulated institution.
    pub const Institution: Provider = Provider::named("institution");
}

#[allow(non_upper_case_globals)]
impl Route {
    /// institution `POST /v2/auth/refresh`.
    pub const Refresh: Route = Route::named("refresh");
    /// institution `POST /v2/customer/create`.
    pub const CustomerCreate: Route = Route::named("customer_create");
}

/// The sandbox's RS256 public key (PKCS#1 PEM), e.g. for a client that wants to verify
/// institution tokens itself.
pub fn institution_public_key_pem() -> &'static str {
    RSA_PUBLIC_PEM
}

/// Whether an institution refresh token works more than once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefreshTokens {
    /// The pages' behaviour (the default): the login and refresh samples carry the same
    /// refresh token, so a refresh answers the presented one again, and it keeps working
    /// until it expires (2 days after the login that issued it).
    #[default]
    Reusable,
    /// Each refresh answers a new refresh token and the presented one stops working
    /// (a stricter provider; for testing clients that must keep the newest token).
    Rotating,
}

/// institution: RS256 access token (30 min) + refresh token (2 days), or an API key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstitutionConfig {
    /// The API user's email (the login's `token` field).
    pub email: String,
    /// The API user's password.
    pub password: String,
    /// Value the `merchant_id` header must carry.
    pub merchant_id: String,
    /// Persistent key accepted in header `Api-key`.
    pub api_key: String,
    /// How long an access token lives (default 30 minutes).
    pub access_token_lifetime: Duration,
    /// How long a refresh token lives (default 2 days).
    pub refresh_token_lifetime: Duration,
    /// Reusable (default) or rotating refresh tokens.
    #[serde(default)]
    pub refresh_tokens: RefreshTokens,
}

impl Default for InstitutionConfig {
    fn default() -> Self {
        InstitutionConfig {
            email: "owner@sandbox-institution.test".into(),
            password: "Sandbox-Passw0rd-1".into(),
            merchant_id: "b34555b7-dca4-5ec1-ade3-64a3ad545310".into(),
            api_key: "sbx-institution-api-key-0001".into(),
            access_token_lifetime: Duration::from_secs(30 * 60),
            refresh_token_lifetime: Duration::from_secs(2 * 24 * 3600),
            refresh_tokens: RefreshTokens::Reusable,
        }
    }
}

impl ConfigImpl for InstitutionConfig {
    const PROVIDER: Provider = Provider::Institution;
    fn credentials(&self) -> Credentials {
        Credentials::new(Provider::Institution)
            .with("email", self.email.as_str())
            .with("password", self.password.as_str())
            .with("merchant_id", self.merchant_id.as_str())
            .with("api_key", self.api_key.as_str())
    }
    fn rotate_secrets(&mut self) {
        self.password = random_secret("Pw-");
        self.api_key = random_secret("sbx-institution-api-key-");
    }
    fn token_lifetime(&self) -> Duration {
        self.access_token_lifetime
    }
    fn set_token_lifetime(&mut self, d: Duration) {
        self.access_token_lifetime = d;
    }
    fn validate(&self) -> Result<(), String> {
        at_least_a_second("access_token_lifetime", self.access_token_lifetime)?;
        at_least_a_second("refresh_token_lifetime", self.refresh_token_lifetime)
    }
}

pub(crate) struct Institution;

const ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        route: Route::Login,
        method: Method::POST,
        path: "/v2/auth/login",
        handler: handler!(login),
    },
    Endpoint {
        route: Route::Refresh,
        method: Method::POST,
        path: "/v2/auth/refresh",
        handler: handler!(refresh),
    },
    Endpoint {
        route: Route::CustomerCreate,
        method: Method::POST,
        path: "/v2/customer/create",
        handler: handler!(customer_create),
    },
    Endpoint {
        route: Route::Protected,
        method: Method::GET,
        path: "/sandbox/protected",
        handler: handler!(protected),
    },
];

impl Plugin for Institution {
    fn provider(&self) -> Provider {
        Provider::Institution
    }
    fn base_path(&self) -> &'static str {
        "/institution"
    }
    fn endpoints(&self) -> &'static [Endpoint] {
        ENDPOINTS
    }
    fn token_format(&self) -> TokenFormat {
        TokenFormat::Rs256
    }
    fn default_config(&self) -> Box<dyn AnyConfig> {
        default_of::<InstitutionConfig>()
    }
    fn parse_config(&self, v: Value) -> Result<Box<dyn AnyConfig>, String> {
        parse_of::<InstitutionConfig>(v)
    }
    fn error(&self, r: Option<Route>, status: StatusCode, message: &str) -> Reply {
        let code = match status.as_u16() {
            400 | 413 | 415 | 422 => "BAD_REQUEST",
            401 if r == Some(Route::Login) => "UNAUTHORIZED",
            401 => return unauthorized(invalid_token_object()),
            403 => "FORBIDDEN",
            404 => "NOT_FOUND",
            405 => "METHOD_NOT_ALLOWED",
            429 => "TOO_MANY_REQUESTS",
            503 => "SERVICE_UNAVAILABLE",
            _ => "INTERNAL_SERVER_ERROR",
        };
        error(status, code, Value::String(message.to_owned()))
    }
    fn forged_subject(&self, _st: &Inner) -> String {
        USER_ID.to_owned()
    }
    fn login_example(&self, base: &str, c: &Credentials) -> String {
        format!(
            "curl -s -X POST '{base}/v2/auth/login' -H 'Content-Type: application/json' \
             -H 'merchant_id: {}' -d '{{\"token\":\"{}\",\"password\":\"{}\"}}'",
            c.text("merchant_id"),
            c.text("email"),
            c.text("password")
        )
    }
}

/// User id of the (single) institution account, as in the provider's sample token.
const USER_ID: &str = "78a12644-a123-4c2b-8e2f-225f54e20b84";

fn error(status: StatusCode, code: &str, message: Value) -> Reply {
    Reply::json(
        status,
        json!({"errors": [{"code": code, "message": message}]}),
    )
}

fn validation(message: &str) -> Reply {
    error(
        StatusCode::BAD_REQUEST,
        "BAD_REQUEST",
        Value::String(message.to_owned()),
    )
}

fn unauthorized(message: Value) -> Reply {
    error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", message)
}

fn invalid_token_object() -> Value {
    json!({"name": "JsonWebTokenError", "message": "invalid token"})
}

fn token_error(e: TokenError) -> Reply {
    let note = e.note();
    match e {
        TokenError::Expired { exp } => unauthorized(json!({
            "name": "TokenExpiredError",
            "message": "jwt expired",
            "expiredAt": rfc3339_millis(exp),
        })),
        _ => unauthorized(invalid_token_object()),
    }
    .decided(note)
}

/// JSON object body, or the provider's 400.
fn object_body(ctx: &Ctx) -> Result<Map<String, Value>, Reply> {
    ctx.json_object().map_err(|e| match e {
        BodyError::ContentType => validation("Content-Type must be application/json"),
        BodyError::NotObject => validation("request body must be a JSON object"),
        BodyError::Unparseable(e) => validation(&e),
    })
}

fn merchant_header(ctx: &Ctx) -> Result<String, Reply> {
    match ctx.header("merchant_id").map(str::trim) {
        Some(m) if !m.is_empty() => Ok(m.to_owned()),
        _ => Err(validation("merchant_id header is required")),
    }
}

/// Issues an access token, and a refresh token unless `reused` is one to answer again,
/// and answers the login/refresh body.
async fn token_pair(
    st: &Inner,
    merchant_id: &str,
    email: &str,
    mode: TokenMode,
    reused: Option<String>,
) -> (Value, String) {
    let (access_lifetime, refresh_lifetime, refresh_tokens) = st.live(|c: &InstitutionConfig| {
        (
            c.access_token_lifetime,
            c.refresh_token_lifetime,
            c.refresh_tokens,
        )
    });
    let mut access_claims = Map::new();
    access_claims.insert("id".into(), json!(USER_ID));
    access_claims.insert("email".into(), json!(email));
    access_claims.insert("role".into(), json!("Owner"));
    access_claims.insert("t".into(), json!("u"));
    access_claims.insert("merchantId".into(), json!(merchant_id));
    let access = st
        .issue(
            Provider::Institution,
            "access",
            USER_ID.to_owned(),
            access_lifetime,
            mode,
            access_claims,
        )
        .await;
    if let Some(refresh) = reused {
        return (
            json!({"data": {
                "accessToken": access.token,
                "expiresIn": access.nominal_exp,
                "refreshToken": refresh,
            }}),
            email.to_owned(),
        );
    }
    let mut refresh_claims = Map::new();
    refresh_claims.insert("id".into(), json!(USER_ID));
    refresh_claims.insert("merchantId".into(), json!(merchant_id));
    refresh_claims.insert("email".into(), json!(email));
    refresh_claims.insert("fingerprint".into(), json!(random_id().replace('-', "")));
    refresh_claims.insert(
        "sessionCreatedAt".into(),
        json!(st.now().timestamp_millis()),
    );
    let refresh = st
        .issue(
            Provider::Institution,
            "refresh",
            USER_ID.to_owned(),
            refresh_lifetime,
            TokenMode::Normal,
            refresh_claims,
        )
        .await;
    if refresh_tokens == RefreshTokens::Rotating {
        st.remember_refresh(&refresh.jti, refresh.nominal_exp);
    }
    (
        json!({"data": {
            "accessToken": access.token,
            "expiresIn": access.nominal_exp,
            "refreshToken": refresh.token,
        }}),
        email.to_owned(),
    )
}

/// What both token calls carry: the merchant header and a JSON object.
fn merchant_and_body(ctx: &Ctx) -> Result<(String, Map<String, Value>), Reply> {
    Ok((merchant_header(ctx)?, object_body(ctx)?))
}

async fn login(st: &Inner, ctx: Ctx) -> Reply {
    let (merchant, obj) = match merchant_and_body(&ctx) {
        Ok(request) => request,
        Err(r) => return r,
    };
    let email = match str_field(&obj, "token") {
        Ok(Some(s)) if s.contains('@') => s.to_owned(),
        Ok(Some(_)) => return validation("token must be an email"),
        Ok(None) => return validation("token should not be empty"),
        Err(_) => return validation("token must be a string"),
    };
    let password = match str_field(&obj, "password") {
        Ok(Some(s)) if !s.is_empty() => s.to_owned(),
        Ok(_) => return validation("password should not be empty"),
        Err(_) => return validation("password must be a string"),
    };
    let ok = st.live(|c: &InstitutionConfig| {
        c.email.eq_ignore_ascii_case(&email) && c.password == password && c.merchant_id == merchant
    });
    if !ok {
        return error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            Value::String("Invalid credentials".into()),
        );
    }
    let (body, identity) = token_pair(st, &merchant, &email, ctx.token_mode, None).await;
    Reply::ok(body).login(&identity)
}

async fn refresh(st: &Inner, ctx: Ctx) -> Reply {
    let (merchant, obj) = match merchant_and_body(&ctx) {
        Ok(request) => request,
        Err(r) => return r,
    };
    let token = match str_field(&obj, "refreshToken") {
        Ok(Some(s)) if !s.trim().is_empty() => s.to_owned(),
        Ok(_) => return validation("refreshToken should not be empty"),
        Err(_) => return validation("refreshToken must be a string"),
    };
    let v = match st.verify(Provider::Institution, &token, "refresh").await {
        Ok(v) => v,
        Err(TokenError::Expired { .. }) => {
            return error(
                StatusCode::UNAUTHORIZED,
                "REFRESH_TOKEN_EXPIRED",
                Value::String("Invalid token".into()),
            )
            .decided("refresh token expired");
        }
        Err(e) => return unauthorized(invalid_token_object()).decided(e.note()),
    };
    if v.str_claim("merchantId") != Some(merchant.as_str()) {
        return unauthorized(invalid_token_object());
    }
    let reused = match st.live(|c: &InstitutionConfig| c.refresh_tokens) {
        // Used again within its life: answered again, as the pages' samples show.
        RefreshTokens::Reusable => Some(token.trim().to_owned()),
        // Rotation: a refresh token works once.
        RefreshTokens::Rotating if st.consume_refresh(&v.jti) => None,
        RefreshTokens::Rotating => {
            return unauthorized(invalid_token_object()).decided("refresh token used already");
        }
    };
    let email = v.str_claim("email").unwrap_or_default().to_owned();
    let (body, _) = token_pair(st, &merchant, &email, ctx.token_mode, reused).await;
    Reply::ok(body).refreshed()
}

/// Bearer access token or `Api-key`; returns the principal.
async fn authenticate(st: &Inner, ctx: &Ctx) -> Result<String, Reply> {
    match ctx.bearer() {
        Bearer::Token(t) => {
            return st
                .verify(Provider::Institution, &t, "access")
                .await
                .map(|v| v.sub().to_owned())
                .map_err(token_error);
        }
        Bearer::OtherScheme => {
            return Err(unauthorized(invalid_token_object()).decided("not a bearer token"));
        }
        Bearer::Missing => {}
    }
    match ctx.header("api-key").map(str::trim) {
        Some(k) if !k.is_empty() => {
            let merchant =
                st.live(|c: &InstitutionConfig| (c.api_key == k).then(|| c.merchant_id.clone()));
            if let Some(merchant) = merchant.filter(|_| !st.is_revoked(k)) {
                Ok(merchant)
            } else {
                Err(unauthorized(invalid_token_object()))
            }
        }
        _ => Err(unauthorized(invalid_token_object())),
    }
}

async fn customer_create(st: &Inner, ctx: Ctx) -> Reply {
    if let Err(r) = authenticate(st, &ctx).await {
        return r;
    }
    let obj = match object_body(&ctx) {
        Ok(o) => o,
        Err(r) => return r.authenticated(),
    };
    match str_field(&obj, "email") {
        Ok(Some(e)) if e.contains('@') && !e.starts_with('@') && !e.ends_with('@') => {}
        Ok(Some(_)) => return validation("email must be an email").authenticated(),
        Ok(None) => return validation("email should not be empty").authenticated(),
        Err(_) => return validation("email must be a string").authenticated(),
    }
    // No field of `CreateCustomerRequest` is nullable: `null` is a wrong type.
    for (k, v) in &obj {
        if v.is_null() {
            return validation(&format!("{k} must not be null")).authenticated();
        }
        if !v.is_string() {
            return validation(&format!("{k} must be a string")).authenticated();
        }
    }
    if let Some(Value::String(c)) = obj.get("country")
        && c.chars().count() != 2
    {
        return validation("country must be an ISO 3166-1 alpha-2 code").authenticated();
    }
    let mut data = Map::new();
    data.insert("id".into(), json!(random_id()));
    for (k, v) in obj {
        if k != "id" && !v.is_null() {
            data.insert(k, v);
        }
    }
    data.insert(
        "createdAt".into(),
        json!(
            st.now()
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        ),
    );
    Reply::ok(json!({"data": data})).authenticated()
}

async fn protected(st: &Inner, ctx: Ctx) -> Reply {
    match authenticate(st, &ctx).await {
        Ok(sub) => {
            Reply::ok(json!({"ok": true, "sub": sub, "provider": "institution"})).authenticated()
        }
        Err(r) => r,
    }
}
