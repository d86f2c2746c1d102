//! The five emulated providers. Each handler gets the whole request (headers + raw body) and
//! parses it itself, so every bad request is answered in the provider's own format.

pub(crate) mod axept;
pub(crate) mod bursagb;
pub(crate) mod check;
pub(crate) mod exirom;
pub(crate) mod institution;
pub(crate) mod pledg;

use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use bytes::Bytes;
use serde_json::Value;

use crate::jwt::TokenMode;
use crate::state::Inner;
use crate::types::{Provider, Route};

/// What the request-pipeline hands a provider handler.
#[derive(Debug)]
pub(crate) struct Ctx {
    pub uri: axum::http::Uri,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub token_mode: TokenMode,
}

/// Body of a reply.
#[derive(Debug, Clone)]
pub(crate) enum ReplyBody {
    Json(Value),
    Raw {
        content_type: &'static str,
        bytes: Bytes,
    },
}

/// Side effects a reply reports to the counters.
#[derive(Debug, Clone, Default)]
pub(crate) struct Outcome {
    pub login_identity: Option<String>,
    pub refreshed: bool,
    pub authenticated: bool,
}

/// A provider's answer, before faults that alter the wire format are applied.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub status: StatusCode,
    pub body: ReplyBody,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub outcome: Outcome,
}

impl Reply {
    pub fn json(status: StatusCode, v: Value) -> Reply {
        Reply {
            status,
            body: ReplyBody::Json(v),
            headers: Vec::new(),
            outcome: Outcome::default(),
        }
    }
    pub fn ok(v: Value) -> Reply {
        Reply::json(StatusCode::OK, v)
    }
    pub fn raw(status: StatusCode, content_type: &'static str, bytes: impl Into<Bytes>) -> Reply {
        Reply {
            status,
            body: ReplyBody::Raw {
                content_type,
                bytes: bytes.into(),
            },
            headers: Vec::new(),
            outcome: Outcome::default(),
        }
    }
    pub fn header(mut self, name: HeaderName, value: &str) -> Reply {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.push((name, v));
        }
        self
    }
    pub fn login(mut self, identity: &str) -> Reply {
        self.outcome.login_identity = Some(identity.to_owned());
        self
    }
    pub fn refreshed(mut self) -> Reply {
        self.outcome.refreshed = true;
        self
    }
    pub fn authenticated(mut self) -> Reply {
        self.outcome.authenticated = true;
        self
    }
}

/// Result of looking at the `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Bearer {
    Missing,
    /// Present but not `Bearer <token>` (e.g. the bare token, or Basic).
    OtherScheme,
    Token(String),
}

impl Ctx {
    /// The last segment of the request path (a `{id}` / `{uti}` parameter),
    /// percent-decoded.
    pub fn last_segment(&self) -> String {
        let raw = self.uri.path().rsplit('/').next().unwrap_or_default();
        form_urlencoded::parse(format!("x={raw}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    }

    /// The first value of a query parameter.
    pub fn query(&self, name: &str) -> Option<String> {
        form_urlencoded::parse(self.uri.query().unwrap_or_default().as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Media type essence, lower-cased, without parameters.
    pub fn media_type(&self) -> Option<String> {
        let ct = self.header(header::CONTENT_TYPE.as_str())?;
        Some(
            ct.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase(),
        )
    }

    pub fn is_json(&self) -> bool {
        self.media_type().is_some_and(|m| {
            m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
        })
    }

    /// Parses the body as JSON (error text suitable for a validation message).
    pub fn json(&self) -> Result<Value, String> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Err("request body is empty".into());
        }
        serde_json::from_slice(&self.body).map_err(|e| format!("malformed JSON: {e}"))
    }

    pub fn bearer(&self) -> Bearer {
        let Some(raw) = self.headers.get(header::AUTHORIZATION) else {
            return Bearer::Missing;
        };
        let Ok(raw) = raw.to_str() else {
            return Bearer::OtherScheme;
        };
        let raw = raw.trim();
        if raw.is_empty() {
            return Bearer::Missing;
        }
        match raw.split_once(' ') {
            Some((scheme, tok))
                if scheme.eq_ignore_ascii_case("bearer") && !tok.trim().is_empty() =>
            {
                Bearer::Token(tok.trim().to_owned())
            }
            _ => Bearer::OtherScheme,
        }
    }
}

/// A string field of a JSON object: `Ok(None)` when absent or null.
pub(crate) fn str_field<'a>(
    obj: &'a serde_json::Map<String, Value>,
    name: &str,
) -> Result<Option<&'a str>, &'static str> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err("must be a string"),
    }
}

/// Method each route answers.
pub(crate) fn method_of(r: Route) -> Method {
    match r {
        Route::Protected
        | Route::CardPaymentStatus
        | Route::TransactionList
        | Route::TransactionGet
        | Route::CustomerGet
        | Route::ApmPaymentInfo
        | Route::CardPayoutInfo => Method::GET,
        _ => Method::POST,
    }
}

/// Routes a processed request to the provider's handler.
pub(crate) async fn handle(st: &Inner, p: Provider, r: Route, ctx: Ctx) -> Reply {
    match (p, r) {
        (Provider::Exirom, Route::Login) => exirom::login(st, ctx).await,
        (Provider::Exirom, Route::Protected) => exirom::protected(st, ctx).await,
        (Provider::Institution, Route::Login) => institution::login(st, ctx).await,
        (Provider::Institution, Route::Refresh) => institution::refresh(st, ctx).await,
        (Provider::Institution, Route::CustomerCreate) => {
            institution::customer_create(st, ctx).await
        }
        (Provider::Institution, Route::Protected) => institution::protected(st, ctx).await,
        (Provider::Pledg, Route::Login) => pledg::token(st, ctx).await,
        (Provider::Pledg, Route::Protected) => pledg::protected(st, ctx).await,
        (Provider::Bursagb, Route::Login) => bursagb::verify(st, ctx).await,
        (Provider::Bursagb, Route::OrdersCreate) => bursagb::orders_create(st, ctx).await,
        (Provider::Bursagb, Route::SupplierProductsList) => {
            bursagb::supplier_products(st, ctx).await
        }
        (Provider::Bursagb, Route::Protected) => bursagb::protected(st, ctx).await,
        (Provider::Axept, Route::Login) => axept::authenticate(st, ctx).await,
        (Provider::Axept, Route::Protected) => axept::protected(st, ctx).await,
        (Provider::Exirom, Route::CardPayment) => exirom::card_payment(st, ctx).await,
        (Provider::Exirom, Route::CardPaymentStatus) => exirom::card_payment_status(st, ctx).await,
        (Provider::Exirom, Route::ApmPayment) => exirom::apm_payment(st, ctx).await,
        (Provider::Exirom, Route::ApmPaymentInfo) => exirom::apm_payment_info(st, ctx).await,
        (Provider::Exirom, Route::CardPayout) => exirom::card_payout(st, ctx).await,
        (Provider::Exirom, Route::CardPayoutInfo) => exirom::card_payout_info(st, ctx).await,
        (Provider::Axept, Route::ProcessDecision) => axept::process_decision(st, ctx).await,
        (Provider::Pledg, Route::PurchaseLink) => pledg::purchase_link(st, ctx).await,
        (Provider::Bursagb, Route::CustomerGet) => bursagb::customer_get(st, ctx).await,
        (Provider::Axept, Route::TransactionStart) => axept::transaction_start(st, ctx).await,
        (Provider::Axept, Route::TransactionList) => axept::transaction_list(st, ctx).await,
        (Provider::Axept, Route::TransactionGet) => axept::transaction_get(st, ctx).await,
        _ => error(p, Some(r), StatusCode::NOT_FOUND, "Not Found"),
    }
}

/// An error reply in the provider's own format, for statuses that are not specific to one
/// handler (injected faults, 404, 405, unreadable bodies).
pub(crate) fn error(p: Provider, r: Option<Route>, status: StatusCode, message: &str) -> Reply {
    match p {
        Provider::Exirom => exirom::error(status, message, Vec::new()),
        Provider::Institution => {
            let code = match status.as_u16() {
                400 | 413 | 415 | 422 => "BAD_REQUEST",
                401 if r == Some(Route::Login) => "UNAUTHORIZED",
                401 => return institution::unauthorized(institution::invalid_token_object()),
                403 => "FORBIDDEN",
                404 => "NOT_FOUND",
                405 => "METHOD_NOT_ALLOWED",
                429 => "TOO_MANY_REQUESTS",
                503 => "SERVICE_UNAVAILABLE",
                _ => "INTERNAL_SERVER_ERROR",
            };
            institution::error(status, code, Value::String(message.to_owned()))
        }
        Provider::Pledg => {
            let code = match status.as_u16() {
                401 if r == Some(Route::Login) => "invalid_client",
                401 => "invalid_token",
                403 => "insufficient_scope",
                404 => "not_found",
                429 | 503 => "temporarily_unavailable",
                s if s >= 500 => "server_error",
                _ => "invalid_request",
            };
            pledg::error(status, code, message)
        }
        Provider::Bursagb => {
            let code = match (status.as_u16(), r) {
                (401, Some(Route::SupplierProductsList)) => -23,
                (s, _) => -i64::from(s),
            };
            bursagb::error(status, message, code)
        }
        Provider::Axept => axept::error(status, message),
    }
}
