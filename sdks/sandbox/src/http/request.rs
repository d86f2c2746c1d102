//! What a provider's handler gets: [`Ctx`], the whole request (headers and raw body), with
//! the parsing every provider needs (query, JSON, `Authorization`).

use axum::http::{HeaderMap, header};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use serde_json::{Map, Value};

use crate::jwt::TokenMode;

/// What the request-pipeline hands a provider handler.
#[derive(Debug)]
pub(crate) struct Ctx {
    pub uri: axum::http::Uri,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub token_mode: TokenMode,
}

/// Why a body is not the JSON object a handler wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BodyError {
    /// Not labelled as JSON.
    ContentType,
    /// Empty or not JSON (the parser's message).
    Unparseable(String),
    /// JSON, but not an object.
    NotObject,
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
    pub(crate) fn last_segment(&self) -> String {
        let raw = self.uri.path().rsplit('/').next().unwrap_or_default();
        form_urlencoded::parse(format!("x={raw}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    }

    /// The first value of a query parameter.
    pub(crate) fn query(&self, name: &str) -> Option<String> {
        form_urlencoded::parse(self.uri.query().unwrap_or_default().as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Media type essence, lower-cased, without parameters.
    pub(crate) fn media_type(&self) -> Option<String> {
        let ct = self.header(header::CONTENT_TYPE.as_str())?;
        Some(
            ct.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase(),
        )
    }

    pub(crate) fn is_json(&self) -> bool {
        self.media_type().is_some_and(|m| {
            m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
        })
    }

    /// Parses the body as JSON (error text suitable for a validation message).
    pub(crate) fn json(&self) -> Result<Value, String> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Err("request body is empty".into());
        }
        serde_json::from_slice(&self.body).map_err(|e| format!("malformed JSON: {e}"))
    }

    /// The body as a JSON object (a JSON media type, parseable, an object).
    pub(crate) fn json_object(&self) -> Result<Map<String, Value>, BodyError> {
        if !self.is_json() {
            return Err(BodyError::ContentType);
        }
        match self.json() {
            Ok(Value::Object(o)) => Ok(o),
            Ok(_) => Err(BodyError::NotObject),
            Err(e) => Err(BodyError::Unparseable(e)),
        }
    }

    /// `(user, password)` of an `Authorization: Basic` header.
    pub(crate) fn basic(&self) -> Option<(String, String)> {
        let raw = self.header(header::AUTHORIZATION.as_str())?.trim();
        let (scheme, b64) = raw.split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let decoded = STANDARD.decode(b64.trim()).ok()?;
        let s = String::from_utf8(decoded).ok()?;
        let (u, p) = s.split_once(':')?;
        Some((u.to_owned(), p.to_owned()))
    }

    pub(crate) fn bearer(&self) -> Bearer {
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
