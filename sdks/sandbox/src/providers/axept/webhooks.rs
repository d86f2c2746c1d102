//! axept's transaction webhook: a JSON POST of the transaction, as `GET /Transaction/{uti}`
//! answers it, to the request's `webHookUrl`, when the transaction starts and when a
//! signature decision changes it. Unsigned, as the pages show it: an application confirms
//! it by fetching the transaction (`axept::webhook::confirm`).

use serde_json::Value;

use crate::callback::SignedCallback;
use crate::emulation::callbacks::Outgoing;
use crate::emulation::idempotency::Record;
use crate::provider::Provider;
use crate::state::Inner;

/// Sends `record`'s webhook to its request's `webHookUrl`, if it named one.
pub(super) fn notify(st: &Inner, record: &Record) {
    let Some(url) = record.request.get("webHookUrl").and_then(Value::as_str) else {
        return;
    };
    let status = record.answer["status"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    st.send_callback(Outgoing {
        provider: Provider::Axept,
        object: record.id.clone(),
        status,
        url: url.to_owned(),
        callback: SignedCallback::json(&record.answer, Vec::new()),
    });
}
