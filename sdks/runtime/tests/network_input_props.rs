//! Property tests over every parser of network input in the runtime:
//! `Retry-After` / `retry-after-ms`, expiry resolution over arbitrary JWT
//! payloads and hints, date-time fields, bearer headers from arbitrary
//! token strings, OAuth2 token answers (the client-credentials flow's). No input panics, and the invariants hold.
//!
//! Case counts are bounded (`CASES` each) so the suite stays fast.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use payauth_runtime::__private::header;
use payauth_runtime::Clock;
use payauth_runtime::ErrorKind;
use payauth_runtime::provider::expiry::{self, ExpiryHints, ExpirySource, MAX_LIFETIME};
use payauth_runtime::provider::oauth2;
use payauth_runtime::retry::{self, Delay, RetryPolicy};
use proptest::prelude::*;
use reqwest::header::{HeaderMap, HeaderValue};

const CASES: u32 = 512;

/// A clock frozen at one instant, so expected lifetimes are exact.
#[derive(Debug, Clone, Copy)]
struct Frozen {
    now: Instant,
    wall: SystemTime,
}

impl Clock for Frozen {
    fn now(&self) -> Instant {
        self.now
    }
    fn wall(&self) -> SystemTime {
        self.wall
    }
}

fn frozen() -> Frozen {
    Frozen {
        now: Instant::now(),
        wall: SystemTime::now(),
    }
}

/// Numbers as servers write them: integers of any size, fractions,
/// exponents, signs, junk.
fn numeric_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|f| f.to_string()),
        "[-+]?[0-9]{0,30}(\\.[0-9]{0,12})?([eE][-+]?[0-9]{1,4})?",
        Just("NaN".to_string()),
        Just("inf".to_string()),
        Just("-inf".to_string()),
        "[ -~]{0,40}",
        any::<u32>()
            .prop_map(|s| httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(s.into()))),
    ]
}

/// Any JSON value, a few levels deep.
fn json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<u64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(serde_json::Value::from),
        numeric_text().prop_map(serde_json::Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
            prop::collection::btree_map("[a-z]{1,4}|exp", inner, 0..4)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

fn jwt_with(claims: &serde_json::Value) -> String {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!(
        "{}.{}.c2ln",
        b64.encode(br#"{"alg":"HS256","typ":"JWT"}"#),
        b64.encode(claims.to_string())
    )
}

/// A token: a JWT over arbitrary claims (with an arbitrary `exp`), or
/// arbitrary text.
fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        (json(), json()).prop_map(|(mut claims, exp)| {
            if let serde_json::Value::Object(m) = &mut claims {
                m.insert("exp".into(), exp);
            }
            jwt_with(&claims)
        }),
        (any::<i64>()).prop_map(|exp| jwt_with(&serde_json::json!({ "exp": exp }))),
        ".{0,64}",
    ]
}

fn hints() -> impl Strategy<Value = ExpiryHints> {
    (
        proptest::option::of(any::<i64>()),
        proptest::option::of(any::<u64>().prop_map(Duration::from_secs)),
        proptest::option::of(prop_oneof![
            numeric_text(),
            "[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})?",
        ]),
    )
        .prop_map(|(unix_seconds, relative, at)| ExpiryHints {
            unix_seconds,
            relative,
            at: at.and_then(|t| expiry::parse_datetime(&t)),
        })
}

/// Seconds until `unix` from the frozen wall clock.
fn secs_until(clock: &Frozen, unix: f64) -> f64 {
    unix - clock
        .wall
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn retry_after_parses_anything_without_panicking(text in numeric_text(), ms in numeric_text()) {
        let now = SystemTime::now();
        let parsed = retry::parse_retry_after(&text, now);
        let parsed_ms = retry::parse_retry_after_ms(&ms);
        // Negative and non-numeric seconds are ignored, never zero-by-accident.
        if let Ok(f) = text.trim().parse::<f64>() {
            prop_assert_eq!(parsed.is_some(), f.is_finite() && f >= 0.0);
        }
        if let Ok(f) = ms.trim().parse::<f64>() {
            prop_assert_eq!(parsed_ms.is_some(), f.is_finite() && f >= 0.0);
        }
        let mut headers = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(&text) {
            headers.insert("retry-after", v);
        }
        if let Ok(v) = HeaderValue::from_str(&ms) {
            headers.insert("retry-after-ms", v);
        }
        let hint = retry::retry_after(&headers);
        let policy = RetryPolicy::default();
        match policy.delay(1, Some(&headers)) {
            Delay::Retry(d) => prop_assert!(d <= policy.max_retry_after.max(policy.max_backoff)),
            // Only a hint beyond the cap stops retries, and it is reported.
            Delay::TooLong(d) => {
                // (An HTTP date is read against the clock twice: allow drift.)
                let hint = hint.unwrap_or_default();
                prop_assert!(d.abs_diff(hint) < Duration::from_secs(1), "{:?} vs {:?}", d, hint);
                prop_assert!(d > policy.max_retry_after);
            }
        }
    }

    #[test]
    fn deadline_arithmetic_never_overflows(
        deadline in any::<u64>(), nanos in 0u32..1_000_000_000, wait in any::<u64>(),
        initial in any::<u64>(), max in any::<u64>(), retry in any::<u32>(),
    ) {
        let policy = RetryPolicy::default()
            .total_deadline(Duration::new(deadline, nanos))
            .initial_backoff(Duration::from_nanos(initial))
            .max_backoff(Duration::from_secs(max));
        let now = Instant::now();
        let _ = policy.within_deadline(now, now, Duration::from_secs(wait));
        let _ = policy.within_deadline(now, now, Duration::MAX);
        let b = policy.backoff(retry);
        prop_assert!(b <= policy.max_backoff);
    }

    #[test]
    fn expiry_resolution_is_bounded_and_earliest_wins(
        token in token(), hints in hints(), fallback_secs in any::<u32>(),
    ) {
        let clock = frozen();
        let fallback = Duration::from_secs(fallback_secs.into());
        let e = expiry::resolve(&token, &hints, &clock, clock.now, fallback);
        // Never before receipt, never past ten years.
        prop_assert!(e.deadline >= clock.now);
        prop_assert!(e.lifetime <= MAX_LIFETIME);
        prop_assert!(e.deadline <= clock.now + MAX_LIFETIME);
        // The earliest source wins.
        let mut sources: Vec<(f64, ExpirySource)> = Vec::new();
        if let Some(exp) = expiry::jwt_exp(&token) {
            sources.push((secs_until(&clock, exp as f64), ExpirySource::JwtExp));
        }
        if let Some(u) = hints.unix_seconds {
            sources.push((secs_until(&clock, u as f64), ExpirySource::UnixSeconds));
        }
        if let Some(r) = hints.relative {
            sources.push((r.as_secs_f64(), ExpirySource::Relative));
        }
        if let Some(at) = hints.at {
            sources.push((secs_until(&clock, at.timestamp_millis() as f64 / 1000.0), ExpirySource::DateTime));
        }
        match sources.iter().map(|s| s.0).min_by(f64::total_cmp) {
            None => {
                prop_assert_eq!(e.source, ExpirySource::Assumed);
                prop_assert_eq!(e.lifetime, fallback.min(MAX_LIFETIME));
            }
            Some(earliest) => {
                prop_assert_ne!(e.source, ExpirySource::Assumed);
                let want = earliest.clamp(0.0, MAX_LIFETIME.as_secs_f64());
                prop_assert!((e.lifetime.as_secs_f64() - want).abs() < 0.002, "{:?} vs {}", e.lifetime, want);
                prop_assert_eq!(e.expired_on_arrival, earliest <= 0.0);
            }
        }
    }

    #[test]
    fn date_times_parse_without_panicking(text in prop_oneof![numeric_text(), ".{0,80}".boxed()]) {
        let _ = expiry::parse_datetime(&text);
        let _ = expiry::lenient_datetime("test", "field", &text);
    }

    #[test]
    fn generated_rfc3339_date_times_round_trip(secs in -62_000_000_000i64..253_000_000_000, nanos in 0u32..1_000_000_000, digits in 0usize..=9, offset_min in -1439i32..=1439, with_offset in any::<bool>()) {
        let at = chrono::DateTime::from_timestamp(secs, nanos).expect("in range");
        let frac = if digits == 0 { String::new() } else { format!(".{:09}", nanos)[..=digits].to_string() };
        let (text, want) = if with_offset {
            let tz = chrono::FixedOffset::east_opt(offset_min * 60).expect("offset");
            let local = at.with_timezone(&tz);
            (format!("{}{}{}", local.format("%Y-%m-%dT%H:%M:%S"), frac, local.format("%:z")), at)
        } else {
            (format!("{}{}", at.format("%Y-%m-%dT%H:%M:%S"), frac), at)
        };
        let parsed = expiry::parse_datetime(&text).expect("parses");
        // Truncated to the digits written.
        let unit = 10i64.pow(9 - digits as u32);
        let want_nanos = (want.timestamp_subsec_nanos() as i64 / unit) * unit;
        prop_assert_eq!(parsed.timestamp(), want.timestamp());
        prop_assert_eq!(parsed.timestamp_subsec_nanos() as i64, want_nanos);
    }

    #[test]
    fn json_expiry_numbers_never_panic(v in json()) {
        let _ = expiry::unix_seconds_of(&v);
        if let Some(d) = expiry::relative_of(&v) {
            prop_assert!(d <= Duration::MAX);
        }
    }

    #[test]
    fn bearer_headers_from_any_token(token in prop_oneof![".{0,64}", "[ -~]{0,64}", "[\\x00-\\x7f]{0,16}"]) {
        let defect = header::token_defect(&token);
        let value = header::bearer_value(&token);
        prop_assert_eq!(defect.is_none(), value.is_some());
        if let Some(v) = value {
            prop_assert!(v.is_sensitive());
            let want = format!("Bearer {token}");
            prop_assert_eq!(v.as_bytes(), want.as_bytes());
            prop_assert!(!token.is_empty() && token.bytes().all(|b| b.is_ascii_graphic()));
        }
    }

    #[test]
    fn oauth2_token_answers_never_panic(
        status in prop_oneof![Just(200u16), Just(400), Just(401), 100u16..600],
        body in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..256).boxed(),
            oauth2_body().prop_map(String::into_bytes).boxed(),
        ],
        attempts in proptest::option::of(numeric_text()),
    ) {
        let mut headers = HeaderMap::new();
        if let Some(v) = attempts.as_deref().and_then(|a| HeaderValue::from_str(a).ok()) {
            headers.insert(retry::ATTEMPTS_HEADER, v);
        }
        match oauth2::token_answer("test", status, &headers, &body) {
            Ok(issued) => {
                prop_assert_eq!(status, 200);
                if let Some(d) = issued.hints.relative {
                    // Resolved like any hint: bounded by the cache.
                    let clock = frozen();
                    let e = expiry::resolve(issued.access_token.expose(), &issued.hints, &clock, clock.now, Duration::ZERO);
                    prop_assert!(e.lifetime <= MAX_LIFETIME.min(d));
                }
            }
            Err(e) => {
                prop_assert_eq!(e.status(), Some(status));
                prop_assert!(!e.to_string().contains("sekrit"), "{}", e);
                if status == 401 {
                    prop_assert!(matches!(
                        e.kind(),
                        ErrorKind::InvalidCredentials | ErrorKind::Forbidden | ErrorKind::BadRequest | ErrorKind::Transient
                    ));
                }
            }
        }
    }

    #[test]
    fn oauth2_expires_in_saturates(v in prop_oneof![
        json().boxed(),
        any::<u64>().prop_map(serde_json::Value::from).boxed(),
        any::<f64>().prop_map(serde_json::Value::from).boxed(),
        numeric_text().prop_map(serde_json::Value::String).boxed(),
        "[0-9]{19,400}".prop_map(serde_json::Value::String).boxed(),
    ]) {
        let whole = match &v {
            serde_json::Value::Number(n) => n.as_u64(),
            serde_json::Value::String(s) if s.len() <= 64 => s.trim().parse::<u64>().ok(),
            _ => None,
        };
        let secs = match &v {
            serde_json::Value::Number(n) => n.as_f64(),
            serde_json::Value::String(s) if s.len() <= 64 => s.trim().parse::<f64>().ok(),
            _ => None,
        };
        let got = oauth2::expires_in(&v);
        match (whole, secs) {
            // Whole seconds exactly.
            (Some(w), _) => prop_assert_eq!(got, Some(Duration::from_secs(w))),
            (None, Some(s)) if s >= 0.0 => {
                let d = got.expect("a non-negative number is a lifetime");
                // Saturating: exact where a Duration holds it, the maximum beyond.
                let want = Duration::try_from_secs_f64(s).unwrap_or(Duration::MAX);
                prop_assert_eq!(d, want);
            }
            _ => prop_assert_eq!(got, None),
        }
    }
}

/// Bodies shaped like a token endpoint's answers: an access token with any
/// `expires_in`, or an error code, with a secret-looking description.
fn oauth2_body() -> impl Strategy<Value = String> {
    let code = prop_oneof![
        Just("invalid_client".to_string()),
        Just("invalid_grant".to_string()),
        Just("unauthorized_client".to_string()),
        Just("invalid_request".to_string()),
        Just("temporarily_unavailable".to_string()),
        "[a-z_]{0,20}",
    ];
    prop_oneof![
        (token(), json(), any::<bool>()).prop_map(|(t, e, with)| {
            let mut m = serde_json::json!({"access_token": t, "token_type": "Bearer"});
            if with {
                m["expires_in"] = e;
            }
            m.to_string()
        }),
        (token(), "[0-9]{1,400}(\\.[0-9]{0,5})?(e[0-9]{1,3})?").prop_map(|(t, e)| {
            format!(
                r#"{{"access_token":"{}","token_type":"Bearer","expires_in":{e}}}"#,
                t.escape_default()
            )
        }),
        code.prop_map(
            |c| serde_json::json!({"error": c, "error_description": "sekrit"}).to_string()
        ),
        json().prop_map(|v| v.to_string()),
    ]
}
