//! OAuth2 client credentials (RFC 6749 §4.4) as configuration: the token endpoint
//! (client authenticated by HTTP Basic or by form fields; JWT or opaque tokens by the
//! provider's token format; `expires_in` in relative seconds), the error shape
//! `{"error", "error_description"}` with its headers, and the RFC 6750 bearer check.
//! A standard OAuth2 provider is a [`ClientCredentials`] value plus its own routes.

use std::time::Duration;

use axum::http::{StatusCode, header};
use serde_json::{Map, json};

use crate::emulation::bearer::{self, Refusal};
use crate::http::reply::Reply;
use crate::http::request::Ctx;
use crate::jwt::{TokenError, Verified};
use crate::provider::Provider;
use crate::state::Inner;

/// How a client authenticates at the token endpoint. (Today's one OAuth2 provider uses
/// `Basic`; the others are ready for the next one, and tested here.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) enum ClientAuth {
    /// `Authorization: Basic base64(client_id:client_secret)` only.
    Basic,
    /// `client_id` and `client_secret` in the form body only.
    Form,
    /// Either one (both at once is an `invalid_request`).
    BasicOrForm,
}

/// One provider's client-credentials profile.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientCredentials {
    pub provider: Provider,
    /// The `realm` of its `WWW-Authenticate` challenges.
    pub realm: &'static str,
    pub client_auth: ClientAuth,
    /// The `iss` claim of its tokens.
    pub issuer: &'static str,
}

const FORM: &str = "application/x-www-form-urlencoded";

impl ClientCredentials {
    /// An error in the RFC 6749 shape, never cached; a 401 carries its challenge.
    pub(crate) fn error(&self, status: StatusCode, code: &str, description: &str) -> Reply {
        let mut r = Reply::json(
            status,
            json!({"error": code, "error_description": description}),
        )
        .header(header::CACHE_CONTROL, "no-store")
        .header(header::PRAGMA, "no-cache");
        if status == StatusCode::UNAUTHORIZED {
            let realm = self.realm;
            let challenge = if code == "invalid_client" {
                format!(r#"Basic realm="{realm}""#)
            } else {
                format!(
                    r#"Bearer realm="{realm}", error="{code}", error_description="{description}""#
                )
            };
            r = r.header(header::WWW_AUTHENTICATE, &challenge);
        }
        r
    }

    pub(crate) fn invalid_request(&self, description: &str) -> Reply {
        self.error(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    fn invalid_client(&self) -> Reply {
        self.error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed",
        )
    }

    /// The token endpoint: a form body with `grant_type=client_credentials`, the client
    /// authenticated as configured and accepted by `client_ok(id, secret)`; answers
    /// `{access_token, token_type: "Bearer", expires_in}` for a token of `lifetime`.
    pub(crate) async fn token(
        &self,
        st: &Inner,
        ctx: Ctx,
        lifetime: Duration,
        client_ok: impl FnOnce(&str, &str) -> bool,
    ) -> Reply {
        if ctx.media_type().as_deref() != Some(FORM) {
            return self.invalid_request("Content-Type must be application/x-www-form-urlencoded");
        }
        if std::str::from_utf8(&ctx.body).is_err() {
            return self.invalid_request("The request body is not valid UTF-8");
        }
        let read: &[&str] = match self.client_auth {
            ClientAuth::Basic => &["grant_type"],
            ClientAuth::Form | ClientAuth::BasicOrForm => {
                &["grant_type", "client_id", "client_secret"]
            }
        };
        let mut params: Map<String, serde_json::Value> = Map::new();
        for (k, v) in form_urlencoded::parse(&ctx.body) {
            if read.contains(&k.as_ref()) {
                if params.contains_key(k.as_ref()) {
                    return self.invalid_request(&format!("The {k} parameter is repeated"));
                }
                params.insert(k.into_owned(), json!(v));
            }
        }
        let param = |k: &str| params.get(k).and_then(|v| v.as_str()).map(str::to_owned);
        let from_form = param("client_id").zip(param("client_secret"));
        let client = match (self.client_auth, ctx.basic(), from_form) {
            (ClientAuth::BasicOrForm, Some(_), Some(_)) => {
                return self.invalid_request("The client used more than one authentication method");
            }
            (ClientAuth::Basic | ClientAuth::BasicOrForm, Some(basic), _) => Some(basic),
            (ClientAuth::Form | ClientAuth::BasicOrForm, _, Some(form)) => Some(form),
            _ => None,
        };
        let Some((id, secret)) = client else {
            return self.invalid_client();
        };
        if !client_ok(&id, &secret) {
            return self.invalid_client();
        }
        let Some(grant_type) = param("grant_type") else {
            return self.invalid_request("Missing grant_type parameter");
        };
        if grant_type != "client_credentials" {
            return self.error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "Only grant_type=client_credentials is supported",
            );
        }
        let mut claims = Map::new();
        claims.insert("client_id".into(), json!(id));
        claims.insert("iss".into(), json!(self.issuer));
        let t = st
            .issue(
                self.provider,
                "access",
                id.clone(),
                lifetime,
                ctx.token_mode,
                claims,
            )
            .await;
        Reply::ok(json!({
            "access_token": t.token,
            "token_type": "Bearer",
            "expires_in": lifetime.as_secs(),
        }))
        .header(header::CACHE_CONTROL, "no-store")
        .header(header::PRAGMA, "no-cache")
        .login(&id)
    }

    /// The bearer check of an operation, refused with RFC 6750's `invalid_token`.
    pub(crate) async fn bearer(&self, st: &Inner, ctx: &Ctx) -> Result<Verified, Reply> {
        let refuse = |d: &str| self.error(StatusCode::UNAUTHORIZED, "invalid_token", d);
        bearer::check_or(st, self.provider, ctx, |e| match e {
            Refusal::Missing => refuse("Missing bearer token"),
            Refusal::OtherScheme => refuse("Authorization header must be 'Bearer <token>'"),
            Refusal::Token(TokenError::Expired { .. }) => refuse("The access token expired"),
            Refusal::Token(TokenError::Revoked) => refuse("The access token has been revoked"),
            Refusal::Token(_) => refuse("The access token is invalid"),
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderMap, HeaderValue};
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde_json::Value;

    use super::*;
    use crate::config::SandboxConfig;
    use crate::http::reply::ReplyBody;
    use crate::jwt::{TokenFormat, TokenMode};

    fn profile(client_auth: ClientAuth) -> ClientCredentials {
        ClientCredentials {
            provider: Provider::all()
                .find(|p| p.token_format() == TokenFormat::Hs256)
                .expect("an HS256 provider"),
            realm: "test",
            client_auth,
            issuer: "https://issuer.test",
        }
    }

    fn ctx(headers: &[(&str, &str)], body: &str) -> Ctx {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.insert(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        Ctx {
            uri: "/token".parse().unwrap(),
            headers: map,
            body: bytes::Bytes::from(body.to_owned()),
            token_mode: TokenMode::Normal,
        }
    }

    fn json(r: &Reply) -> Value {
        match &r.body {
            ReplyBody::Json(v) => v.clone(),
            ReplyBody::Raw { .. } => Value::Null,
        }
    }

    const FORM_CT: (&str, &str) = ("content-type", FORM);

    fn basic(id: &str, secret: &str) -> String {
        format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
    }

    async fn token(auth: ClientAuth, headers: &[(&str, &str)], body: &str) -> (Inner, Reply) {
        let st = Inner::new(SandboxConfig::default());
        let reply = profile(auth)
            .token(
                &st,
                ctx(headers, body),
                Duration::from_secs(900),
                |id, secret| id == "client" && secret == "s3cret",
            )
            .await;
        (st, reply)
    }

    #[tokio::test]
    async fn form_credentials_get_a_token_the_bearer_check_accepts() {
        let body = "grant_type=client_credentials&client_id=client&client_secret=s3cret";
        let (st, reply) = token(ClientAuth::Form, &[FORM_CT], body).await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", json(&reply));
        let v = json(&reply);
        assert_eq!(
            (v["token_type"].clone(), v["expires_in"].clone()),
            ("Bearer".into(), 900.into())
        );
        let access = v["access_token"].as_str().unwrap();
        let auth = format!("Bearer {access}");
        let claims = profile(ClientAuth::Form)
            .bearer(&st, &ctx(&[("authorization", &auth)], ""))
            .await
            .expect("its own token is accepted");
        assert_eq!(claims.sub(), "client");
        assert_eq!(claims.str_claim("iss"), Some("https://issuer.test"));
        // Basic-only profiles ignore form credentials.
        let (_, reply) = token(ClientAuth::Basic, &[FORM_CT], body).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        assert_eq!(json(&reply)["error"], "invalid_client");
    }

    #[tokio::test]
    async fn basic_or_form_takes_either_but_not_both() {
        let b = basic("client", "s3cret");
        let (_, r) = token(
            ClientAuth::BasicOrForm,
            &[FORM_CT, ("authorization", &b)],
            "grant_type=client_credentials",
        )
        .await;
        assert_eq!(r.status, StatusCode::OK);
        let (_, r) = token(
            ClientAuth::BasicOrForm,
            &[FORM_CT, ("authorization", &b)],
            "grant_type=client_credentials&client_id=client&client_secret=s3cret",
        )
        .await;
        assert_eq!(
            (r.status, json(&r)["error"].clone()),
            (StatusCode::BAD_REQUEST, "invalid_request".into())
        );
        let (_, r) = token(
            ClientAuth::BasicOrForm,
            &[FORM_CT],
            "grant_type=client_credentials&client_id=client&client_secret=wrong",
        )
        .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }

    #[tokio::test]
    async fn grant_type_and_content_type_are_checked() {
        let b = basic("client", "s3cret");
        let auth = ("authorization", b.as_str());
        for (headers, body, code) in [
            (
                vec![auth],
                "grant_type=client_credentials",
                "invalid_request",
            ),
            (vec![FORM_CT, auth], "", "invalid_request"),
            (
                vec![FORM_CT, auth],
                "grant_type=password",
                "unsupported_grant_type",
            ),
            (
                vec![FORM_CT, auth],
                "grant_type=client_credentials&grant_type=client_credentials",
                "invalid_request",
            ),
        ] {
            let (_, r) = token(ClientAuth::Basic, &headers, body).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}");
            assert_eq!(json(&r)["error"], code, "{body}");
            assert!(
                r.headers
                    .iter()
                    .any(|(k, v)| k == header::CACHE_CONTROL && v == "no-store")
            );
        }
    }
}
