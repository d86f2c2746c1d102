//! The sandbox behaves like each provider: logins, error formats, token checks.

use std::time::Duration;

use payauth_sandbox::{
    AxeptConfig, BursagbConfig, ExiromConfig, Forgery, InstitutionConfig, PledgConfig, Provider,
    RefreshTokens, Route, Sandbox, SandboxConfig, Variant,
};
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};
use workspace_tests::raw::login_request;

fn client() -> Client {
    Client::builder().no_proxy().build().unwrap()
}

fn url(sb: &Sandbox, p: Provider, r: Route) -> String {
    sb.url(p, r).unwrap()
}

async fn json_of(resp: Response) -> (StatusCode, Value) {
    let status = resp.status();
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let text = resp.text().await.unwrap();
    assert!(
        ct.starts_with("application/json"),
        "status {status}: content-type `{ct}`, body {text}"
    );
    let v = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    (status, v)
}

fn claims(token: &str) -> Value {
    payauth_sandbox::peek_claims(token).expect("a JWT")
}

fn lifetime(token: &str) -> i64 {
    let c = claims(token);
    c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap()
}

/// A token signed by the test itself with a secret the sandbox does not know.
fn self_forged(sub: &str, alg: jsonwebtoken::Algorithm) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims =
        json!({"sub": sub, "iat": now, "exp": now + 600, "jti": "forged", "env": "sandbox"});
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(alg),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(b"not the sandbox's secret"),
    )
    .unwrap()
}

async fn protected(sb: &Sandbox, p: Provider, token: &str) -> (StatusCode, Value) {
    json_of(
        client()
            .get(url(sb, p, Route::Protected))
            .bearer_auth(token)
            .send()
            .await
            .unwrap(),
    )
    .await
}

// ---------------------------------------------------------------------------------------
// exirom

async fn exirom_login(sb: &Sandbox) -> Value {
    login_ok(sb, Provider::Exirom).await
}

/// The provider's documented login with working credentials; must be 200.
async fn login_ok(sb: &Sandbox, p: Provider) -> Value {
    let (s, v) = json_of(login_request(sb, p).send().await.unwrap()).await;
    assert_eq!(s, 200, "{v}");
    v
}

fn exirom_token(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Object(o) => o["token"].as_str().unwrap().to_owned(),
        _ => panic!("{v}"),
    }
}

fn assert_exirom_error(v: &Value) {
    assert!(v["message"].is_string(), "{v}");
    assert!(v["errors"].is_array(), "{v}");
}

#[tokio::test]
async fn exirom_login_bare_string_then_object_variant() {
    let sb = Sandbox::start().await.unwrap();
    let v = exirom_login(&sb).await;
    let token = v.as_str().expect("bare JSON string by default");
    assert_eq!(lifetime(token), 30 * 24 * 3600);
    let c = claims(token);
    assert_eq!(c["env"], "sandbox");
    assert!(c["jti"].is_string() && c["sub"].is_string());

    sb.set_variant(Variant::ExiromObject);
    let v = exirom_login(&sb).await;
    assert_eq!(v["merchantKey"], "sbx-exirom-merchant-key");
    let t = v["token"].as_str().unwrap();
    assert_eq!(protected(&sb, Provider::Exirom, t).await.0, 200);
    sb.set_variant(Variant::ExiromBareString);
    assert!(exirom_login(&sb).await.is_string());
}

#[tokio::test]
async fn exirom_errors_in_provider_format() {
    let sb = Sandbox::start().await.unwrap();
    let c = client();
    let u = url(&sb, Provider::Exirom, Route::Login);
    let json = |body: Value| c.post(&u).json(&body);
    let raw = |content_type: &str, body: &str| {
        c.post(&u)
            .header("content-type", content_type)
            .body(body.to_owned())
    };
    let cases = [
        (
            "wrong secret",
            json(json!({"merchantKey": "sbx-exirom-merchant-key", "merchantSecret": "nope"})),
            401,
        ),
        ("missing secret", json(json!({"merchantKey": "k"})), 400),
        (
            "not JSON content type",
            raw("text/plain", "merchantKey=x"),
            400,
        ),
        ("broken JSON", raw("application/json", "{not json"), 400),
        ("wrong method", c.get(&u), 405),
        (
            "unknown path",
            c.post(format!("{}/v1/nothing", sb.base_url(Provider::Exirom))),
            404,
        ),
    ];
    for (what, request, status) in cases {
        let (s, v) = json_of(request.send().await.unwrap()).await;
        assert_eq!(s, status, "{what}: {v}");
        assert_exirom_error(&v);
        if what == "missing secret" {
            assert_eq!(v["errors"][0]["field"], "merchantSecret", "{v}");
        }
    }
}

#[tokio::test]
async fn exirom_token_checks() {
    let sb = Sandbox::start().await.unwrap();
    let t = exirom_token(&exirom_login(&sb).await);
    let (s, v) = protected(&sb, Provider::Exirom, &t).await;
    assert_eq!((s.as_u16(), v["ok"].as_bool()), (200, Some(true)));
    assert_eq!(v["sub"], "sbx-exirom-merchant-key");

    for forged in [
        self_forged("sbx-exirom-merchant-key", jsonwebtoken::Algorithm::HS256),
        sb.forge_token(Provider::Exirom, Forgery::WrongKey),
        sb.forge_token(Provider::Exirom, Forgery::OtherEnvironment),
        sb.forge_token(Provider::Exirom, Forgery::AlgNone),
        sb.forge_token(Provider::Exirom, Forgery::Tampered),
        "not-a-jwt".to_owned(),
    ] {
        let (s, v) = protected(&sb, Provider::Exirom, &forged).await;
        assert_eq!(s, 401, "{forged}");
        assert_exirom_error(&v);
    }
    let (s, v) = json_of(
        client()
            .get(url(&sb, Provider::Exirom, Route::Protected))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 401);
    assert_exirom_error(&v);

    // 29 days later the token still works; after 30 days it has expired.
    sb.advance_clock(Duration::from_secs(29 * 86400));
    assert_eq!(protected(&sb, Provider::Exirom, &t).await.0, 200);
    // (+1 s: `exp` is the issue time rounded up, plus the lifetime)
    sb.advance_clock(Duration::from_secs(86400 + 1));
    let (s, v) = protected(&sb, Provider::Exirom, &t).await;
    assert_eq!(s, 401);
    assert_exirom_error(&v);

    let t2 = exirom_token(&exirom_login(&sb).await);
    assert_eq!(protected(&sb, Provider::Exirom, &t2).await.0, 200);
    sb.revoke_token(&t2);
    assert_eq!(protected(&sb, Provider::Exirom, &t2).await.0, 401);
}

// ---------------------------------------------------------------------------------------
// institution

fn inst_creds(sb: &Sandbox) -> (String, String, String, String) {
    let creds = sb.credentials(Provider::Institution);
    let email = creds.text("email").to_owned();
    let password = creds.text("password").to_owned();
    let merchant_id = creds.text("merchant_id").to_owned();
    let api_key = creds.text("api_key").to_owned();
    (email, password, merchant_id, api_key)
}

async fn inst_login(sb: &Sandbox) -> Value {
    login_ok(sb, Provider::Institution).await
}

async fn inst_refresh(sb: &Sandbox, refresh: &str) -> (StatusCode, Value) {
    let (_, _, merchant, _) = inst_creds(sb);
    json_of(
        client()
            .post(url(sb, Provider::Institution, Route::Refresh))
            .header("merchant_id", merchant)
            .json(&json!({"refreshToken": refresh}))
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn inst_create(
    sb: &Sandbox,
    auth: Option<(&str, &str)>,
    body: &Value,
) -> (StatusCode, Value) {
    let mut rb = client().post(url(sb, Provider::Institution, Route::CustomerCreate));
    if let Some((h, v)) = auth {
        rb = rb.header(h, v);
    }
    json_of(rb.json(body).send().await.unwrap()).await
}

fn inst_error_code(v: &Value) -> &str {
    v["errors"][0]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("{v}"))
}

#[tokio::test]
async fn institution_login_shapes() {
    let sb = Sandbox::start().await.unwrap();
    let v = inst_login(&sb).await;
    let d = &v["data"];
    let access = d["accessToken"].as_str().unwrap();
    let refresh = d["refreshToken"].as_str().unwrap();
    assert_eq!(
        claims(access)["exp"],
        d["expiresIn"],
        "expiresIn is the absolute exp"
    );
    assert_eq!(lifetime(access), 1800);
    assert_eq!(lifetime(refresh), 172_800);
    let header = jsonwebtoken::decode_header(access).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
    // The public key verifies it.
    let key = jsonwebtoken::DecodingKey::from_rsa_pem(
        payauth_sandbox::institution_public_key_pem().as_bytes(),
    )
    .unwrap();
    let mut val = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    val.validate_exp = false;
    jsonwebtoken::decode::<Value>(access, &key, &val).unwrap();
}

#[tokio::test]
async fn institution_errors_in_provider_format() {
    let sb = Sandbox::start().await.unwrap();
    let (email, password, merchant, _) = inst_creds(&sb);
    let c = client();
    let u = url(&sb, Provider::Institution, Route::Login);
    let send = |merchant: Option<&str>, body: Value| {
        let mut rb = c.post(&u).json(&body);
        if let Some(m) = merchant {
            rb = rb.header("merchant_id", m);
        }
        rb.send()
    };
    let (s, v) = json_of(
        send(
            Some(&merchant),
            json!({"token": email, "password": "wrong"}),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!((s.as_u16(), inst_error_code(&v)), (401, "UNAUTHORIZED"));
    assert!(v["errors"][0]["message"].is_string());

    let (s, v) = json_of(
        send(
            Some("other-merchant"),
            json!({"token": email, "password": password}),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!((s.as_u16(), inst_error_code(&v)), (401, "UNAUTHORIZED"));

    let (s, v) = json_of(
        send(None, json!({"token": email, "password": password}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((s.as_u16(), inst_error_code(&v)), (400, "BAD_REQUEST"));

    let (s, v) = json_of(
        send(Some(&merchant), json!({"token": email}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((s.as_u16(), inst_error_code(&v)), (400, "BAD_REQUEST"));

    let (s, v) = json_of(
        c.post(&u)
            .header("merchant_id", &merchant)
            .header("content-type", "text/plain")
            .body("hello")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((s.as_u16(), inst_error_code(&v)), (400, "BAD_REQUEST"));
}

#[tokio::test]
async fn institution_refresh_rotates_and_expires() {
    let mut cfg = SandboxConfig::default();
    cfg.provider_mut::<InstitutionConfig>().refresh_tokens = RefreshTokens::Rotating;
    let sb = Sandbox::start_with(cfg).await.unwrap();
    let v = inst_login(&sb).await;
    let r1 = v["data"]["refreshToken"].as_str().unwrap().to_owned();

    let (s, v2) = inst_refresh(&sb, &r1).await;
    assert_eq!(s, 200, "{v2}");
    let r2 = v2["data"]["refreshToken"].as_str().unwrap().to_owned();
    let a2 = v2["data"]["accessToken"].as_str().unwrap().to_owned();
    assert_ne!(r1, r2);
    assert_eq!(claims(&a2)["exp"], v2["data"]["expiresIn"]);

    // The used refresh token is dead.
    let (s, v) = inst_refresh(&sb, &r1).await;
    assert_eq!((s.as_u16(), inst_error_code(&v)), (401, "UNAUTHORIZED"));
    // An access token is not a refresh token.
    let (s, _) = inst_refresh(&sb, &a2).await;
    assert_eq!(s, 401);
    // The new one works once.
    let (s, v3) = inst_refresh(&sb, &r2).await;
    assert_eq!(s, 200);
    let r3 = v3["data"]["refreshToken"].as_str().unwrap().to_owned();

    // Revoked refresh token.
    let (_, v4) = inst_refresh(&sb, &r3).await;
    let r4 = v4["data"]["refreshToken"].as_str().unwrap().to_owned();
    sb.revoke_token(&r4);
    assert_eq!(inst_refresh(&sb, &r4).await.0, 401);

    // Expired refresh token.
    let v = inst_login(&sb).await;
    let r = v["data"]["refreshToken"].as_str().unwrap().to_owned();
    sb.advance_clock(Duration::from_secs(2 * 86400 + 1));
    let (s, v) = inst_refresh(&sb, &r).await;
    assert_eq!(s, 401);
    assert_eq!(
        v,
        json!({"errors": [{"code": "REFRESH_TOKEN_EXPIRED", "message": "Invalid token"}]})
    );
    // Bad body.
    let (s, v) = inst_refresh(&sb, "").await;
    assert_eq!((s.as_u16(), inst_error_code(&v)), (400, "BAD_REQUEST"));
}

#[tokio::test]
async fn institution_customer_create_auth() {
    let sb = Sandbox::start().await.unwrap();
    let body = json!({"email": "alex@example.com", "firstName": "Alex", "country": "FR"});
    let v = inst_login(&sb).await;
    let access = v["data"]["accessToken"].as_str().unwrap().to_owned();
    let bearer = format!("Bearer {access}");
    let (s, v) = inst_create(&sb, Some(("authorization", &bearer)), &body).await;
    assert_eq!(s, 200, "{v}");
    assert!(v["data"]["id"].is_string());
    assert_eq!(v["data"]["email"], "alex@example.com");
    assert_eq!(v["data"]["firstName"], "Alex");

    let (_, _, _, api_key) = inst_creds(&sb);
    let (s, _) = inst_create(&sb, Some(("Api-key", &api_key)), &body).await;
    assert_eq!(s, 200);

    // Missing email → 400 (after authentication).
    let (s, v) = inst_create(&sb, Some(("Api-key", &api_key)), &json!({"firstName": "A"})).await;
    assert_eq!((s.as_u16(), inst_error_code(&v)), (400, "BAD_REQUEST"));

    let invalid = json!({"name": "JsonWebTokenError", "message": "invalid token"});
    let forged_hs = {
        // Algorithm confusion: HS256 keyed with the RS256 public key.
        let now = chrono::Utc::now().timestamp();
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &json!({"sub": "x", "iat": now, "exp": now + 600, "env": "sandbox", "prv": "institution", "typ": "access"}),
            &jsonwebtoken::EncodingKey::from_secret(payauth_sandbox::institution_public_key_pem().as_bytes()),
        )
        .unwrap()
    };
    for bad in [
        format!(
            "Bearer {}",
            sb.forge_token(Provider::Institution, Forgery::WrongKey)
        ),
        format!(
            "Bearer {}",
            sb.forge_token(Provider::Institution, Forgery::OtherEnvironment)
        ),
        format!(
            "Bearer {}",
            sb.forge_token(Provider::Institution, Forgery::Tampered)
        ),
        format!("Bearer {forged_hs}"),
        format!("Bearer {}", v_refresh(&sb).await),
        access.clone(),
    ] {
        let (s, v) = inst_create(&sb, Some(("authorization", &bad)), &body).await;
        assert_eq!(s, 401, "{bad}");
        assert_eq!(
            v,
            json!({"errors": [{"code": "UNAUTHORIZED", "message": invalid}]})
        );
    }
    let (s, v) = inst_create(&sb, None, &body).await;
    assert_eq!((s.as_u16(), inst_error_code(&v)), (401, "UNAUTHORIZED"));
    let (s, _) = inst_create(&sb, Some(("Api-key", "wrong")), &body).await;
    assert_eq!(s, 401);

    // Revoked.
    let v = inst_login(&sb).await;
    let a = v["data"]["accessToken"].as_str().unwrap().to_owned();
    sb.revoke_token(&a);
    let (s, v) = inst_create(&sb, Some(("authorization", &format!("Bearer {a}"))), &body).await;
    assert_eq!(s, 401);
    assert_eq!(v["errors"][0]["message"], invalid);

    // Expired → TokenExpiredError with expiredAt == exp.
    let exp = claims(&access)["exp"].as_i64().unwrap();
    sb.advance_clock(Duration::from_secs(1801));
    let (s, v) = inst_create(&sb, Some(("authorization", &bearer)), &body).await;
    assert_eq!(s, 401);
    let m = &v["errors"][0]["message"];
    assert_eq!(v["errors"][0]["code"], "UNAUTHORIZED");
    assert_eq!(m["name"], "TokenExpiredError");
    assert_eq!(m["message"], "jwt expired");
    let at = chrono::DateTime::parse_from_rfc3339(m["expiredAt"].as_str().unwrap()).unwrap();
    assert_eq!(at.timestamp(), exp);

    // Rotated API key: the old one stops working.
    let new = sb.rotate_credentials(Provider::Institution);
    let creds = new;
    let new_key = creds.text("api_key").to_owned();
    assert_eq!(
        inst_create(&sb, Some(("Api-key", &api_key)), &body).await.0,
        401
    );
    assert_eq!(
        inst_create(&sb, Some(("Api-key", &new_key)), &body).await.0,
        200
    );
    sb.revoke_token(&new_key);
    assert_eq!(
        inst_create(&sb, Some(("Api-key", &new_key)), &body).await.0,
        401
    );
}

async fn v_refresh(sb: &Sandbox) -> String {
    inst_login(sb).await["data"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_owned()
}

// ---------------------------------------------------------------------------------------
// pledg

async fn pledg_token_req(sb: &Sandbox, user: &str, pass: &str, body: &str) -> (StatusCode, Value) {
    json_of(
        client()
            .post(url(sb, Provider::Pledg, Route::Login))
            .basic_auth(user, Some(pass))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.to_owned())
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn pledg_login(sb: &Sandbox) -> String {
    let creds = sb.credentials(Provider::Pledg);
    let api_key = creds.text("api_key").to_owned();
    let api_secret = creds.text("api_secret").to_owned();
    let (s, v) = pledg_token_req(sb, &api_key, &api_secret, "grant_type=client_credentials").await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["expires_in"], 600);
    v["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn pledg_client_credentials() {
    let sb = Sandbox::start().await.unwrap();
    let t = pledg_login(&sb).await;
    assert_eq!(lifetime(&t), 600);
    // The form helper of reqwest works too.
    let resp = client()
        .post(url(&sb, Provider::Pledg, Route::Login))
        .basic_auth("sbx_pledg_api_key", Some("sbx_pledg_api_secret"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");

    let (s, v) = pledg_token_req(
        &sb,
        "sbx_pledg_api_key",
        "bad",
        "grant_type=client_credentials",
    )
    .await;
    assert_eq!(
        (s.as_u16(), v["error"].as_str()),
        (401, Some("invalid_client"))
    );
    let (s, v) = pledg_token_req(
        &sb,
        "sbx_pledg_api_key",
        "sbx_pledg_api_secret",
        "grant_type=password",
    )
    .await;
    assert_eq!(
        (s.as_u16(), v["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
    let (s, v) = pledg_token_req(&sb, "sbx_pledg_api_key", "sbx_pledg_api_secret", "scope=x").await;
    assert_eq!(
        (s.as_u16(), v["error"].as_str()),
        (400, Some("invalid_request"))
    );

    // JSON instead of a form.
    let (s, v) = json_of(
        client()
            .post(url(&sb, Provider::Pledg, Route::Login))
            .basic_auth("sbx_pledg_api_key", Some("sbx_pledg_api_secret"))
            .json(&json!({"grant_type": "client_credentials"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (s.as_u16(), v["error"].as_str()),
        (400, Some("invalid_request"))
    );
    assert!(v["error_description"].is_string());

    // No Basic at all.
    let resp = client()
        .post(url(&sb, Provider::Pledg, Route::Login))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert!(resp.headers().contains_key("www-authenticate"));
    let (_, v) = json_of(resp).await;
    assert_eq!(v["error"], "invalid_client");
}

#[tokio::test]
async fn pledg_token_checks() {
    let sb = Sandbox::start().await.unwrap();
    let t = pledg_login(&sb).await;
    assert_eq!(protected(&sb, Provider::Pledg, &t).await.0, 200);
    for forged in [
        self_forged("sbx_pledg_api_key", jsonwebtoken::Algorithm::HS256),
        sb.forge_token(Provider::Pledg, Forgery::WrongKey),
        sb.forge_token(Provider::Pledg, Forgery::OtherEnvironment),
        sb.forge_token(Provider::Pledg, Forgery::AlgNone),
    ] {
        let (s, v) = protected(&sb, Provider::Pledg, &forged).await;
        assert_eq!(
            (s.as_u16(), v["error"].as_str()),
            (401, Some("invalid_token"))
        );
    }
    // A token of another provider is refused too.
    let exirom = exirom_token(&exirom_login(&sb).await);
    assert_eq!(protected(&sb, Provider::Pledg, &exirom).await.0, 401);

    // (a few seconds of slack: real time passes during the test)
    sb.advance_clock(Duration::from_secs(590));
    assert_eq!(protected(&sb, Provider::Pledg, &t).await.0, 200);
    sb.advance_clock(Duration::from_secs(11));
    assert_eq!(protected(&sb, Provider::Pledg, &t).await.0, 401);

    let t1 = pledg_login(&sb).await;
    let t2 = pledg_login(&sb).await;
    sb.revoke_all(Provider::Pledg);
    assert_eq!(protected(&sb, Provider::Pledg, &t1).await.0, 401);
    assert_eq!(protected(&sb, Provider::Pledg, &t2).await.0, 401);
    let t3 = pledg_login(&sb).await;
    assert_eq!(protected(&sb, Provider::Pledg, &t3).await.0, 200);
}

// ---------------------------------------------------------------------------------------
// bursagb

async fn bursagb_verify(sb: &Sandbox, body: Value, region: Option<&str>) -> (StatusCode, Value) {
    let mut rb = client()
        .post(url(sb, Provider::Bursagb, Route::Login))
        .json(&body);
    if let Some(r) = region {
        rb = rb.header("h-region-code", r);
    }
    json_of(rb.send().await.unwrap()).await
}

async fn bursagb_token(sb: &Sandbox, email: &str, password: &str) -> String {
    let (s, v) = bursagb_verify(sb, json!({"Email": email, "Password": password}), None).await;
    assert_eq!(s, 200, "{v}");
    v["data"]["Token"].as_str().unwrap().to_owned()
}

fn assert_bursagb_error(v: &Value, code: i64) {
    assert_eq!(v["success"], false, "{v}");
    assert!(v["message"].is_string(), "{v}");
    assert_eq!(v["code"], code, "{v}");
}

async fn orders_create(sb: &Sandbox, auth: Option<&str>) -> (StatusCode, Value) {
    let mut rb = client()
        .post(url(sb, Provider::Bursagb, Route::OrdersCreate))
        .json(&json!({"customerId": "cus_10482", "currency": "TRY",
                       "items": [{"productId": "prd_5521", "quantity": 2}]}));
    if let Some(a) = auth {
        rb = rb.header("authorization", a);
    }
    json_of(rb.send().await.unwrap()).await
}

async fn products(sb: &Sandbox, header: Option<(&str, &str)>) -> (StatusCode, Value) {
    let mut rb = client()
        .post(url(sb, Provider::Bursagb, Route::SupplierProductsList))
        .json(&json!({"page": 1, "pageSize": 2}));
    if let Some((h, v)) = header {
        rb = rb.header(h, v);
    }
    json_of(rb.send().await.unwrap()).await
}

#[tokio::test]
async fn bursagb_generate_token() {
    let sb = Sandbox::start().await.unwrap();
    let creds = sb.credentials(Provider::Bursagb);
    let email = creds.text("email").to_owned();
    let password = creds.text("password").to_owned();
    let customers = creds
        .field::<Vec<(String, String)>>("customers")
        .expect("customers");
    let (s, v) = bursagb_verify(
        &sb,
        json!({"Email": email, "Password": password, "callbackData": "cb-1"}),
        Some("DE"),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        (v["success"].as_bool(), v["message"].as_str()),
        (Some(true), Some("OK"))
    );
    let d = &v["data"];
    assert_eq!(d["callbackData"], "cb-1");
    let t = d["Token"].as_str().unwrap();
    let c = claims(t);
    assert_eq!(lifetime(t), 3600);
    let exp = chrono::DateTime::parse_from_rfc3339(d["Expiration"].as_str().unwrap()).unwrap();
    assert_eq!(exp.timestamp(), c["exp"].as_i64().unwrap());
    assert_eq!(c["region"], "DE");
    assert_eq!(c["tenant"], "tenant-sandbox");

    // Default region, per-customer tokens.
    let a = bursagb_token(&sb, &customers[0].0, &customers[0].1).await;
    let b = bursagb_token(&sb, &customers[1].0, &customers[1].1).await;
    assert_eq!(claims(&a)["region"], "TR");
    assert_ne!(claims(&a)["sub"], claims(&b)["sub"]);
    assert_eq!(claims(&a)["customerId"], "cust-0001");

    // Bad credentials / payload / content type → 400 with an integer code.
    let (s, v) = bursagb_verify(&sb, json!({"Email": email, "Password": "x"}), None).await;
    assert_eq!(s, 400);
    assert!(v["code"].is_i64());
    assert_eq!(v["success"], false);
    // The lower-case body of another brand: accepted, answered in lower case.
    let (s, v) = bursagb_verify(&sb, json!({"email": email, "password": password}), None).await;
    assert_eq!(s, 200, "{v}");
    assert!(v["data"]["token"].is_string(), "{v}");
    assert!(v["data"]["expiration"].is_string(), "{v}");
    assert!(v["data"].get("Token").is_none(), "{v}");
    let (s, v) = bursagb_verify(&sb, json!({"email": email, "password": "x"}), None).await;
    assert_eq!(s, 400);
    assert!(v["code"].is_i64());
    let (s, v) = bursagb_verify(
        &sb,
        json!({"Email": email, "Password": password}),
        Some("Turkey"),
    )
    .await;
    assert_eq!(s, 400);
    assert!(v["code"].is_i64());
    let (s, v) = json_of(
        client()
            .post(url(&sb, Provider::Bursagb, Route::Login))
            .header("content-type", "application/xml")
            .body("<Email/>")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 400);
    assert!(v["code"].is_i64());
}

#[tokio::test]
async fn bursagb_orders_scope_and_bearer_rules() {
    let sb = Sandbox::start().await.unwrap();
    let creds = sb.credentials(Provider::Bursagb);
    let email = creds.text("email").to_owned();
    let password = creds.text("password").to_owned();
    let reseller = bursagb_token(&sb, &email, &password).await;
    let (s, v) = orders_create(&sb, Some(&format!("Bearer {reseller}"))).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["success"], true);
    assert!(v["data"]["orderId"].is_string() && v["data"]["id"].is_string());

    let (ce, cp) = sb.bursagb_customer_without_orders_scope().unwrap();
    let weak = bursagb_token(&sb, &ce, &cp).await;
    let (s, v) = orders_create(&sb, Some(&format!("Bearer {weak}"))).await;
    assert_eq!(s, 403);
    assert_eq!(
        v,
        json!({"success": false, "message": "insufficient scope", "code": -403})
    );
    // The same token is still valid where no scope is needed.
    assert_eq!(protected(&sb, Provider::Bursagb, &weak).await.0, 200);

    // Without the Bearer prefix → 401.
    let (s, v) = orders_create(&sb, Some(&reseller)).await;
    assert_eq!(s, 401);
    assert_bursagb_error(&v, -401);
    let (s, v) = orders_create(&sb, None).await;
    assert_eq!(s, 401);
    assert_bursagb_error(&v, -401);
    for forged in [
        self_forged("reseller-0001", jsonwebtoken::Algorithm::HS256),
        sb.forge_token(Provider::Bursagb, Forgery::WrongKey),
        sb.forge_token(Provider::Bursagb, Forgery::OtherEnvironment),
    ] {
        let (s, v) = orders_create(&sb, Some(&format!("Bearer {forged}"))).await;
        assert_eq!(s, 401);
        assert_bursagb_error(&v, -401);
    }
    // Invalid order payload → 400 (authenticated).
    let (s, v) = json_of(
        client()
            .post(url(&sb, Provider::Bursagb, Route::OrdersCreate))
            .bearer_auth(&reseller)
            .json(&json!({"currency": "TRY", "items": []}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(v["success"], false);

    let t = bursagb_token(&sb, &email, &password).await;
    sb.revoke_token(&t);
    assert_eq!(
        orders_create(&sb, Some(&format!("Bearer {t}"))).await.0,
        401
    );
    sb.advance_clock(Duration::from_secs(3600 + 1));
    let (s, v) = orders_create(&sb, Some(&format!("Bearer {reseller}"))).await;
    assert_eq!(s, 401);
    assert_bursagb_error(&v, -401);
}

#[tokio::test]
async fn bursagb_supplier_api_key() {
    let sb = Sandbox::start().await.unwrap();
    let creds = sb.credentials(Provider::Bursagb);
    let api_key = creds.text("api_key").to_owned();
    let (s, v) = products(&sb, Some(("ApiKey", &api_key))).await;
    assert_eq!(s, 200, "{v}");
    let items = v["data"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    for it in items {
        assert!(it["productId"].is_string() && it["name"].is_string() && it["price"].is_number());
    }
    // Header name is case-insensitive.
    assert_eq!(products(&sb, Some(("apikey", &api_key))).await.0, 200);
    assert_eq!(products(&sb, Some(("APIKEY", &api_key))).await.0, 200);

    let (s, v) = products(&sb, None).await;
    assert_eq!(s, 401);
    assert_bursagb_error(&v, -23);
    let (s, v) = products(&sb, Some(("ApiKey", "ak_wrong"))).await;
    assert_eq!(s, 401);
    assert_bursagb_error(&v, -23);

    let restricted = sb.bursagb_restricted_api_key().unwrap();
    let (s, v) = products(&sb, Some(("ApiKey", &restricted))).await;
    assert_eq!(s, 403);
    assert_eq!(v["success"], false);

    // Rotation, then revocation.
    let creds = sb.rotate_credentials(Provider::Bursagb);
    let new = creds.text("api_key").to_owned();
    assert_eq!(products(&sb, Some(("ApiKey", &api_key))).await.0, 401);
    assert_eq!(products(&sb, Some(("ApiKey", &new))).await.0, 200);
    sb.revoke_token(&new);
    let (s, v) = products(&sb, Some(("ApiKey", &new))).await;
    assert_eq!(s, 401);
    assert_bursagb_error(&v, -23);
}

// ---------------------------------------------------------------------------------------
// axept

async fn axept_auth(sb: &Sandbox, body: Value) -> (StatusCode, Value) {
    json_of(
        client()
            .post(url(sb, Provider::Axept, Route::Login))
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn axept_authenticate_variants_and_errors() {
    let sb = Sandbox::start().await.unwrap();
    let ok = json!({"merchantId": 12345, "keyId": 12, "key": "R2lJMTMzZ1RCVy60T1h4V3FNshy="});
    let (s, v) = axept_auth(&sb, ok.clone()).await;
    assert_eq!(s, 200, "{v}");
    let t = v["token"].as_str().unwrap().to_owned();
    assert_eq!(lifetime(&t), 1800);
    let at = chrono::DateTime::parse_from_rfc3339(v["expiresAt"].as_str().unwrap()).unwrap();
    assert_eq!(at.timestamp(), claims(&t)["exp"].as_i64().unwrap());
    assert_eq!(protected(&sb, Provider::Axept, &t).await.0, 200);

    sb.set_variant(Variant::AxeptPascal);
    let (s, v) = axept_auth(&sb, ok.clone()).await;
    assert_eq!(s, 200);
    assert!(v["Token"].is_string() && v["ExpiresAt"].is_string() && v.get("token").is_none());

    for bad in [
        json!({"merchantId": "12345", "keyId": 12, "key": "k"}),
        json!({"merchantId": 12345, "keyId": 12}),
        json!({"merchantId": 12345.5, "keyId": 12, "key": "k"}),
        json!([1, 2]),
    ] {
        let (s, v) = axept_auth(&sb, bad).await;
        assert_eq!(s, 400);
        assert!(v["message"].is_string());
    }
    let (s, v) = axept_auth(
        &sb,
        json!({"merchantId": 12345, "keyId": 13, "key": "R2lJMTMzZ1RCVy60T1h4V3FNshy="}),
    )
    .await;
    assert_eq!(s, 401);
    assert!(v["message"].is_string());
    let (s, _) = json_of(
        client()
            .post(url(&sb, Provider::Axept, Route::Login))
            .header("content-type", "text/plain")
            .body(ok.to_string())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 400);

    // Rotation: the old key is refused, the new one works.
    let creds = sb.rotate_credentials(Provider::Axept);
    let merchant_id = creds.int("merchant_id");
    let key_id = creds.int("key_id");
    let key = creds.text("key").to_owned();
    assert_eq!(axept_auth(&sb, ok).await.0, 401);
    let (s, _) = axept_auth(
        &sb,
        json!({"merchantId": merchant_id, "keyId": key_id, "key": key}),
    )
    .await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn axept_token_checks() {
    let sb = Sandbox::start().await.unwrap();
    let (_, v) = axept_auth(
        &sb,
        json!({"merchantId": 12345, "keyId": 12, "key": "R2lJMTMzZ1RCVy60T1h4V3FNshy="}),
    )
    .await;
    let t = v["token"].as_str().unwrap().to_owned();
    for forged in [
        self_forged("12345", jsonwebtoken::Algorithm::HS256),
        sb.forge_token(Provider::Axept, Forgery::WrongKey),
        sb.forge_token(Provider::Axept, Forgery::OtherEnvironment),
    ] {
        let (s, v) = protected(&sb, Provider::Axept, &forged).await;
        assert_eq!(s, 401);
        assert!(v["message"].is_string());
    }
    sb.revoke_token(&t);
    assert_eq!(protected(&sb, Provider::Axept, &t).await.0, 401);
    let (_, v) = axept_auth(
        &sb,
        json!({"merchantId": 12345, "keyId": 12, "key": "R2lJMTMzZ1RCVy60T1h4V3FNshy="}),
    )
    .await;
    let t = v["token"].as_str().unwrap().to_owned();
    sb.advance_clock(Duration::from_secs(1800 + 1));
    let resp = client()
        .get(url(&sb, Provider::Axept, Route::Protected))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let challenge = resp.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(challenge.contains("expired"), "{challenge}");
}

// ---------------------------------------------------------------------------------------
// across providers

#[tokio::test]
async fn lifetimes_and_accounts_are_configurable() {
    let mut cfg = SandboxConfig::default();
    cfg.provider_mut::<PledgConfig>().token_lifetime = Duration::from_secs(5);
    cfg.provider_mut::<AxeptConfig>().token_lifetime = Duration::from_secs(60);
    cfg.provider_mut::<BursagbConfig>().token_lifetime = Duration::from_secs(120);
    cfg.provider_mut::<ExiromConfig>().token_lifetime = Duration::from_secs(7);
    cfg.provider_mut::<InstitutionConfig>()
        .access_token_lifetime = Duration::from_secs(30);
    cfg.provider_mut::<InstitutionConfig>()
        .refresh_token_lifetime = Duration::from_secs(90);
    cfg.provider_mut::<ExiromConfig>().merchant_key = "mk_custom".into();
    let sb = Sandbox::start_with(cfg).await.unwrap();
    let (s, v) = pledg_token_req(
        &sb,
        "sbx_pledg_api_key",
        "sbx_pledg_api_secret",
        "grant_type=client_credentials",
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(v["expires_in"], 5);
    assert_eq!(lifetime(v["access_token"].as_str().unwrap()), 5);
    let t = exirom_token(&exirom_login(&sb).await);
    assert_eq!(lifetime(&t), 7);
    assert_eq!(claims(&t)["sub"], "mk_custom");
    let v = inst_login(&sb).await;
    assert_eq!(lifetime(v["data"]["accessToken"].as_str().unwrap()), 30);
    assert_eq!(lifetime(v["data"]["refreshToken"].as_str().unwrap()), 90);
    let creds = sb.credentials(Provider::Bursagb);
    let email = creds.text("email").to_owned();
    let password = creds.text("password").to_owned();
    assert_eq!(lifetime(&bursagb_token(&sb, &email, &password).await), 120);

    // An invalid configuration is refused.
    let mut bad = SandboxConfig::default();
    bad.provider_mut::<AxeptConfig>().variant = Variant::ExiromObject;
    let err = Sandbox::start_with(bad).await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
}

/// Whatever garbage arrives, every route answers JSON in its provider's format: never a
/// 500, never a plain-text framework rejection.
#[tokio::test]
async fn garbage_never_yields_500_or_plain_text() {
    let sb = Sandbox::start().await.unwrap();
    let c = client();
    let big = vec![b'{'; 1024 * 1024 + 10];
    for p in Provider::all() {
        for &r in p.routes() {
            let u = url(&sb, p, r);
            let reqs = vec![
                c.post(&u).body(vec![0xff, 0xfe, 0x00]),
                c.post(&u)
                    .header("content-type", "application/json")
                    .body("{\"a\":"),
                c.post(&u)
                    .header("content-type", "application/json")
                    .body("null"),
                c.post(&u)
                    .header("content-type", "application/json")
                    .body("[]"),
                c.post(&u)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body("%%%=&&&"),
                c.post(&u)
                    .header("content-type", "application/json")
                    .body(big.clone()),
                c.put(&u).body("{}"),
                c.delete(&u),
                c.get(&u).header("authorization", "Basic !!!"),
                c.get(&u).header("authorization", "Bearer a.b.c"),
                c.post(&u).header("Api-key", "").header("ApiKey", "x"),
            ];
            for rb in reqs {
                let resp = rb.send().await.unwrap();
                let status = resp.status();
                assert!(status.is_client_error(), "{p} {r}: {status}");
                let (_, v) = json_of(resp).await;
                assert!(v.is_object(), "{p} {r}: {v}");
            }
        }
    }
    let (s, v) = json_of(
        c.get(format!("{}/nowhere", sb.root_url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 404);
    assert!(v.is_object());
}
