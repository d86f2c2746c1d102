//! Property tests: each provider's login and error envelope parsing over
//! arbitrary JSON — the generated types (serde), the hand-written glue
//! (`<provider>::issued`, `refine`) and the runtime's OAuth2 answer (pledg's
//! login) — never panic; every token they let
//! through gets a bounded deadline, and unusable tokens are caught by the
//! header check the runtime applies at fetch.
//!
//! Each property runs `CASES` cases: arbitrary JSON, and arbitrary values
//! in each provider's documented shape (so the glue is reached).

use std::time::{Duration, Instant, SystemTime};

use payauth_runtime::__private::header;
use payauth_runtime::provider::expiry::{self, MAX_LIFETIME};
use payauth_runtime::provider::{Issued, oauth2};
use payauth_runtime::{Clock, ErrorKind};
use proptest::prelude::*;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

const CASES: u32 = 256;

#[derive(Debug, Clone, Copy)]
struct Frozen(Instant, SystemTime);

impl Clock for Frozen {
    fn now(&self) -> Instant {
        self.0
    }
    fn wall(&self) -> SystemTime {
        self.1
    }
}

/// Strings servers send where a token or a date goes.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,24}",
        "[ -~]{0,24}",
        "eyJ[A-Za-z0-9_-]{2,20}\\.[A-Za-z0-9_-]{2,30}\\.[A-Za-z0-9_-]{0,10}",
        "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})?",
        any::<i64>().prop_map(|n| n.to_string()),
    ]
}

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z]{1,12}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A value that is usually the right type for a field (`want`), sometimes
/// anything.
fn field(want: Value) -> impl Strategy<Value = Option<Value>> {
    let typed: BoxedStrategy<Value> = match want {
        Value::String(_) => text().prop_map(Value::String).boxed(),
        Value::Number(_) => prop_oneof![
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from)
        ]
        .boxed(),
        Value::Bool(_) => any::<bool>().prop_map(Value::Bool).boxed(),
        _ => json().boxed(),
    };
    prop_oneof![
        6 => typed.prop_map(Some),
        1 => json().prop_map(Some),
        1 => Just(None),
    ]
}

/// An object with `fields` (name, example of the right type).
fn shaped(fields: &'static [(&'static str, Value)]) -> BoxedStrategy<Value> {
    let parts: Vec<BoxedStrategy<Option<Value>>> = fields
        .iter()
        .map(|(_, v)| field(v.clone()).boxed())
        .collect();
    parts
        .prop_map(move |values| {
            let mut map = serde_json::Map::new();
            for ((name, _), v) in fields.iter().zip(values) {
                if let Some(v) = v {
                    map.insert((*name).to_string(), v);
                }
            }
            Value::Object(map)
        })
        .boxed()
}

fn s() -> Value {
    json!("")
}

/// What the runtime does with an `Issued`: reject unusable tokens, else
/// resolve a deadline. The invariants hold for every input.
fn check(issued: Issued) -> Result<(), TestCaseError> {
    let token = issued.access_token.expose();
    prop_assert_eq!(
        header::token_defect(token).is_none(),
        header::bearer_value(token).is_some()
    );
    let clock = Frozen(Instant::now(), SystemTime::now());
    let e = expiry::resolve(
        token,
        &issued.hints,
        &clock,
        clock.0,
        Duration::from_secs(300),
    );
    prop_assert!(e.deadline >= clock.0);
    prop_assert!(e.deadline <= clock.0 + MAX_LIFETIME);
    Ok(())
}

fn either(shape: BoxedStrategy<Value>) -> impl Strategy<Value = Value> {
    prop_oneof![3 => shape, 1 => json()]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn exirom_login(v in either(prop_oneof![
        text().prop_map(Value::String).boxed(),
        shaped_exirom(),
    ].boxed())) {
        if let Ok(r) = serde_json::from_value::<exirom::types::AuthResponse>(v) {
            check(exirom::issued(r))?;
        }
    }

    #[test]
    fn axept_login(v in either(prop_oneof![
        shaped_axept_pascal(),
        shaped_axept_camel(),
    ].boxed())) {
        if let Ok(r) = serde_json::from_value::<axept::types::AuthenticationResponse>(v) {
            check(axept::issued(r))?;
        }
    }

    #[test]
    fn bursagb_login_and_errors(v in either(shaped_bursagb())) {
        if let Ok(r) = serde_json::from_value::<bursagb::types::TokenResponse>(v.clone()) {
            let success = r.success;
            match bursagb::issued(r) {
                Ok(issued) => check(issued)?,
                Err(e) => {
                    let want = if success { ErrorKind::MalformedResponse } else { ErrorKind::InvalidCredentials };
                    prop_assert_eq!(e.kind(), want);
                }
            }
        }
        if let Ok(r) = serde_json::from_value::<bursagb::types::ErrorResponse>(v) {
            prop_assert_eq!(bursagb::refine(&r).is_some(), !r.success);
        }
    }

    #[test]
    fn institution_login_and_errors(v in either(shaped_institution())) {
        if let Ok(r) = serde_json::from_value::<institution::types::TokenEnvelope>(v.clone()) {
            check(institution::issued(r.data))?;
        }
        if let Ok(r) = serde_json::from_value::<institution::types::ErrorEnvelope>(v) {
            let _ = institution::refine(&r);
        }
    }

    #[test]
    fn pledg_login(v in either(shaped_pledg())) {
        // pledg's login is the runtime's OAuth2 client credentials.
        let body = v.to_string();
        if let Ok(issued) = oauth2::token_answer("pledg", 200, &HeaderMap::new(), body.as_bytes()) {
            check(issued)?;
        }
    }
}

// `Value::String(String::new())` is not const: shapes that need typed
// fields are built here.
fn leak(fields: Vec<(&'static str, Value)>) -> &'static [(&'static str, Value)] {
    Box::leak(fields.into_boxed_slice())
}

fn shaped_exirom() -> BoxedStrategy<Value> {
    shaped(leak(vec![("token", s())]))
}

fn shaped_pledg() -> BoxedStrategy<Value> {
    shaped(leak(vec![
        ("access_token", s()),
        ("token_type", s()),
        ("expires_in", json!(0)),
    ]))
}

fn shaped_axept_pascal() -> BoxedStrategy<Value> {
    shaped(leak(vec![("Token", s()), ("ExpiresAt", s())]))
}

fn shaped_axept_camel() -> BoxedStrategy<Value> {
    shaped(leak(vec![("token", s()), ("expiresAt", s())]))
}

fn shaped_bursagb() -> BoxedStrategy<Value> {
    let data = prop_oneof![
        shaped(leak(vec![
            ("Token", s()),
            ("Expiration", s()),
            ("callbackData", s())
        ]))
        .prop_map(Some),
        Just(Some(Value::Null)),
        Just(None),
    ];
    let rest = shaped(leak(vec![
        ("success", json!(true)),
        ("message", s()),
        ("code", json!(0)),
    ]));
    (data, rest)
        .prop_map(|(data, mut rest)| {
            if let (Some(d), Value::Object(m)) = (data, &mut rest) {
                m.insert("data".into(), d);
            }
            rest
        })
        .boxed()
}

fn shaped_institution() -> BoxedStrategy<Value> {
    let data = shaped(leak(vec![
        ("accessToken", s()),
        ("expiresIn", json!(0)),
        ("refreshToken", s()),
    ]));
    let errors = prop::collection::vec(shaped(leak(vec![("code", s()), ("message", s())])), 0..3);
    prop_oneof![
        data.prop_map(|d| json!({ "data": d })),
        errors.prop_map(|e| json!({ "errors": e })),
    ]
    .boxed()
}
