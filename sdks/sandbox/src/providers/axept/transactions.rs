//! axept's transactions: `POST /transaction` (idempotent by `uti`), `GET /Transaction/{uti}`,
//! `GET /Transaction` (paged, `X-Pagination`), and `POST /ProcessDecision`.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::http::{HeaderName, StatusCode};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::{Map, Value, json};

use super::answers::{bearer, error, field_error, object_body};
use super::webhooks::notify;
use crate::emulation::check::{self, Kind, Rule, STR, str_len};
use crate::emulation::idempotency::{Created, IdempotentStore, Record};
use crate::http::reply::Reply;
use crate::http::request::Ctx;
use crate::provider::Provider;
use crate::state::{Inner, MAX_PER_KIND};
use crate::sync::lock;

/// The transactions started (by `uti`) and the signature decisions posted (uti → decision).
#[derive(Debug)]
struct Transactions {
    started: IdempotentStore,
    decisions: Mutex<HashMap<String, Value>>,
}

impl Default for Transactions {
    /// With the transaction that waits for a signature decision.
    fn default() -> Self {
        let t = Transactions {
            started: IdempotentStore::default(),
            decisions: Mutex::default(),
        };
        t.started.seed(SAMPLE_UTI, sample);
        t
    }
}

const START_RULES: &[Rule] = &[
    ("uti", str_len(36, 36), true),
    ("webHookUrl", str_len(0, 250), false),
    ("tid", STR, false),
    ("expirationDate", STR, false),
    ("reference", str_len(0, 50), false),
    ("transType", STR, false),
    (
        "amountTrans",
        Kind::Int {
            min: 0,
            max: i64::MAX,
        },
        false,
    ),
    (
        "amountGratuity",
        Kind::Int {
            min: 0,
            max: i64::MAX,
        },
        false,
    ),
    ("posSignatureCheck", Kind::Bool, false),
    // The stores the list filters on (our assumption: the page's field list is cut off).
    ("merchantStoreId", STR, false),
    ("clientStoreId", STR, false),
];

/// The page's rules beyond type and length (FACTS): `uti` a GUID,
/// `webHookUrl` https, `reference` alphanumeric, `expirationDate` a UTC
/// ISO 8601 time in the future and at most 365 days ahead.
fn start_rules(st: &Inner, body: &Map<String, Value>) -> Result<(), (&'static str, String)> {
    let text = |k: &str| body.get(k).and_then(Value::as_str);
    if let Some(uti) = text("uti")
        && !is_guid(uti)
    {
        return Err(("uti", "The uti must be a GUID.".into()));
    }
    // URL schemes are case-insensitive (RFC 3986 §3.1): `HTTPS://` is https.
    if let Some(url) = text("webHookUrl")
        && !url
            .get(..8)
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"))
    {
        return Err(("webHookUrl", "The webHookUrl must use https.".into()));
    }
    if let Some(reference) = text("reference")
        && !reference.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return Err(("reference", "The reference must be alphanumeric.".into()));
    }
    if let Some(date) = text("expirationDate") {
        let at = utc_date_time(date).map_err(|e| ("expirationDate", e.to_owned()))?;
        let now = st.now();
        if at <= now {
            return Err((
                "expirationDate",
                "The expirationDate must be in the future.".into(),
            ));
        }
        if at > now + chrono::Duration::days(365) {
            return Err((
                "expirationDate",
                "The expirationDate must be at most 365 days ahead.".into(),
            ));
        }
    }
    Ok(())
}

/// A UTC ISO 8601 date-time, as the page documents `expirationDate`: an offset of zero
/// (`Z`, `+00:00`), or none at all (read as UTC, as .NET writes it); fractional seconds
/// of any precision (.NET writes seven digits).
fn utc_date_time(s: &str) -> Result<DateTime<Utc>, &'static str> {
    if let Ok(at) = DateTime::parse_from_rfc3339(s) {
        return if at.offset().local_minus_utc() == 0 {
            Ok(at.with_timezone(&Utc))
        } else {
            Err("The expirationDate must be in UTC.")
        };
    }
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .map(|naive| naive.and_utc())
        .ok_or("The expirationDate must be a UTC ISO 8601 date-time.")
}

/// `8-4-4-4-12` hexadecimal digits.
fn is_guid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The JSON object body of a bearer call, checked against `rules`; else
/// the provider's answer (401, 400, or the first field's error).
async fn checked_body(st: &Inner, ctx: &Ctx, rules: &[Rule]) -> Result<Map<String, Value>, Reply> {
    bearer(st, ctx).await?;
    let body = object_body(ctx).map_err(Reply::authenticated)?;
    check::fields(&body, rules).map_err(|(field, problem)| {
        field_error(&field, &format!("The {field} field {problem}.")).authenticated()
    })?;
    Ok(body)
}

/// `POST /transaction`: stores the transaction under its `uti` (the same request again →
/// the same answer; a reused `uti` with another body → 409). The sandbox completes it at
/// once: `Complete`, approved.
pub(super) async fn transaction_start(st: &Inner, ctx: Ctx) -> Reply {
    let body = match checked_body(st, &ctx, START_RULES).await {
        Ok(body) => body,
        Err(r) => return r,
    };
    if let Err((field, problem)) = start_rules(st, &body) {
        return field_error(field, &problem).authenticated();
    }
    let uti = body.get("uti").and_then(Value::as_str).unwrap_or_default();
    let outcome = st.store::<Transactions>().started.create(
        uti,
        Value::Object(body.clone()),
        || Ok::<(), Reply>(()),
        || {
            let mut tx = json!({
                "uti": uti,
                "transType": body.get("transType").cloned().unwrap_or(json!("SALE")),
                "transApproved": true,
                "transPartiallyApproved": false,
                "transCancelled": false,
                "status": "Complete",
            });
            for k in [
                "amountTrans",
                "reference",
                "tid",
                "merchantStoreId",
                "clientStoreId",
            ] {
                if let Some(v) = body.get(k) {
                    tx[k] = v.clone();
                }
            }
            (uti.to_owned(), tx)
        },
    );
    match outcome {
        Created::New(tx) => {
            st.count_created(Provider::Axept);
            if let Some(record) = st.store::<Transactions>().started.by_key(uti) {
                notify(st, &record);
            }
            Reply::ok(tx)
                .decided(format!("started {uti}"))
                .authenticated()
        }
        Created::Replayed(tx) => Reply::ok(tx).decided("replayed uti").authenticated(),
        Created::Conflict => error(StatusCode::CONFLICT, "uti already used")
            .decided("uti reused for another request")
            .authenticated(),
        Created::Full => error(StatusCode::SERVICE_UNAVAILABLE, "Service unavailable"),
        Created::Refused(r) => r,
    }
}

pub(super) async fn transaction_get(st: &Inner, ctx: Ctx) -> Reply {
    if let Err(r) = bearer(st, &ctx).await {
        return r;
    }
    match st
        .store::<Transactions>()
        .started
        .by_key(&ctx.last_segment())
    {
        Some(tx) => Reply::ok(tx.answer).authenticated(),
        None => error(StatusCode::NOT_FOUND, "Transaction not found").authenticated(),
    }
}

/// `GET /Transaction?MerchantStoreId&ClientStoreId&PageNumber&PageSize`: a page of the
/// transactions of the stores asked for (every one without a filter), paging in
/// `X-Pagination`. A transaction started without a store id matches no filter on it.
pub(super) async fn transaction_list(st: &Inner, ctx: Ctx) -> Reply {
    if let Err(r) = bearer(st, &ctx).await {
        return r;
    }
    let int = |name: &str, default: i64, max: i64| -> Result<i64, Reply> {
        match ctx.query(name) {
            None => Ok(default),
            Some(v) => match v.parse::<i64>() {
                Ok(n) if (1..=max).contains(&n) => Ok(n),
                _ => Err(
                    field_error(name, &format!("The value '{v}' is not valid for {name}."))
                        .authenticated(),
                ),
            },
        }
    };
    let page = match int("PageNumber", 1, i64::from(i32::MAX)) {
        Ok(n) => n,
        Err(r) => return r,
    };
    let size = match int("PageSize", 20, 100) {
        Ok(n) => n,
        Err(r) => return r,
    };
    let skip = usize::try_from((page - 1).saturating_mul(size)).unwrap_or(usize::MAX);
    let take = usize::try_from(size).unwrap_or(100);
    let filters: Vec<(&str, String)> = ["MerchantStoreId", "ClientStoreId"]
        .into_iter()
        .zip(["merchantStoreId", "clientStoreId"])
        .filter_map(|(query, field)| Some((field, ctx.query(query)?)))
        .collect();
    let matches = |r: &Record| {
        filters
            .iter()
            .all(|(field, want)| r.answer.get(*field).and_then(Value::as_str) == Some(want))
    };
    let (total, items) = st.store::<Transactions>().started.page(matches, skip, take);
    let total = i64::try_from(total).unwrap_or(i64::MAX);
    let paging = json!({
        "totalCount": total,
        "pageSize": size,
        "currentPage": page,
        "totalPages": (total + size - 1) / size,
    });
    Reply::ok(Value::Array(items))
        .header(HeaderName::from_static("x-pagination"), &paging.to_string())
        .authenticated()
}

/// The transaction the sandbox keeps waiting for a signature decision
/// (the spec's example of `POST /ProcessDecision`).
const SAMPLE_UTI: &str = "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e";

/// The sample: not approved, `Pending`, until a decision arrives.
fn sample() -> Record {
    Record {
        id: SAMPLE_UTI.to_owned(),
        request: Value::Null,
        answer: json!({"uti": SAMPLE_UTI, "transType": "SALE", "transApproved": false,
                       "transPartiallyApproved": false, "transCancelled": false,
                       "status": PENDING, "amountTrans": 3000}),
    }
}

/// The status of a transaction waiting for a signature decision.
const PENDING: &str = "Pending";

const DECISION_RULES: &[Rule] = &[
    ("uti", str_len(36, 36), true),
    ("signatureAccepted", Kind::Bool, true),
];

/// Why a decision was not recorded.
enum Refused {
    Conflict,
    Full,
}

/// `POST /ProcessDecision` (our design): a signature decision for a known
/// transaction; the same decision again is answered again, another one is
/// a 409. A refused signature cancels the transaction; an accepted one completes
/// a transaction waiting for it.
pub(super) async fn process_decision(st: &Inner, ctx: Ctx) -> Reply {
    let body = match checked_body(st, &ctx, DECISION_RULES).await {
        Ok(body) => body,
        Err(r) => return r,
    };
    let uti = body
        .get("uti")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    if !is_guid(&uti) {
        return field_error("uti", "The uti must be a GUID.").authenticated();
    }
    let accepted = body
        .get("signatureAccepted")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let store = st.store::<Transactions>();
    // The transaction after a decision recorded now, for its webhook.
    let mut changed = None;
    let decided = store.started.update(&uti, |tx| {
        let mut decisions = lock(&store.decisions);
        let decision = json!(accepted);
        match decisions.get(&uti) {
            Some(previous) if *previous != decision => return Err(Refused::Conflict),
            Some(_) => {}
            None => {
                if decisions.len() >= MAX_PER_KIND {
                    return Err(Refused::Full);
                }
                decisions.insert(uti.clone(), decision);
                if !accepted {
                    tx.answer["transApproved"] = json!(false);
                    tx.answer["transCancelled"] = json!(true);
                    tx.answer["status"] = json!("Cancelled");
                } else if tx.answer["status"] == PENDING {
                    tx.answer["transApproved"] = json!(true);
                    tx.answer["status"] = json!("Complete");
                }
                changed = Some(tx.clone());
            }
        }
        Ok(tx.answer["status"].clone())
    });
    match decided {
        None => error(StatusCode::NOT_FOUND, "Transaction not found").authenticated(),
        Some(Err(Refused::Conflict)) => error(StatusCode::CONFLICT, "decision already recorded")
            .decided("another decision recorded already")
            .authenticated(),
        Some(Err(Refused::Full)) => error(StatusCode::SERVICE_UNAVAILABLE, "Service unavailable"),
        Some(Ok(status)) => {
            if let Some(record) = &changed {
                notify(st, record);
            }
            Reply::ok(json!({
            "uti": uti,
            "signatureAccepted": accepted,
            "status": status,
            }))
            .decided(if changed.is_some() {
                "decision recorded"
            } else {
                "same decision again"
            })
            .authenticated()
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::utc_date_time;

    #[test]
    fn utc_with_an_offset_of_zero_or_none() {
        let noon = "2030-01-02T12:00:00Z"
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap();
        for ok in [
            "2030-01-02T12:00:00Z",
            "2030-01-02T12:00:00+00:00",
            "2030-01-02T12:00:00-00:00",
            "2030-01-02T12:00:00",
            "2030-01-02T12:00:00.0000000",
            "2030-01-02T12:00:00.0000000Z",
        ] {
            assert_eq!(utc_date_time(ok), Ok(noon), "{ok}");
        }
        assert_eq!(
            utc_date_time("2030-01-02T14:00:00+02:00"),
            Err("The expirationDate must be in UTC.")
        );
        for bad in ["", "soon", "2030-01-02", "12:00:00", "2030-13-02T12:00:00"] {
            assert!(utc_date_time(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn any_text_is_judged_without_panicking(s in "\\PC{0,40}") {
            let _ = utc_date_time(&s);
        }
    }
}
