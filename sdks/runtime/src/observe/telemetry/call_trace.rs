//! One call's telemetry while it runs (feature `otel`), as the HTTP
//! semantic conventions have it: an `INTERNAL` span for the operation
//! (`exirom.create_card_payment`) and under it one `CLIENT` span per
//! request sent (`POST /payments/card`), each with its own status and,
//! on a resend, `http.request.resend_count` and why
//! (`payauth.retry.reason`); `http.client.request.duration` once per
//! request sent, `payauth.client.operation.duration` once per call, and
//! `payauth.client.operation.unsent` for a call that sent nothing. A token
//! endpoint's call (a login inside a fetch) has no span of its own: its
//! requests' spans go under the fetch's.
//!
//! Nothing of this exists for a call that records nothing (no span made,
//! no meter that records): its [`CallTrace`] stays empty, one word.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Instant;

use opentelemetry::propagation::Injector;
use opentelemetry::trace::{Span as _, SpanKind, Status, TraceContextExt, Tracer};
use opentelemetry::{Context, KeyValue, StringValue, Value};
use reqwest::Request;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use super::instruments::{
    Instruments, attr, method_name, protocol_version, status_error, transport_error,
};
use super::url_full::redacted_url;
use crate::base::time::Clock;
use crate::observe::payload::{Answered, Attempt, CallEnd, CallStart, Resend, RetryReason};

/// A call's spans and timings, owned by the call; dropped before the call
/// ended (its caller gave up), it ends them with `error.type = cancelled`.
#[derive(Default)]
pub(crate) struct CallTrace(Option<Box<CallState>>);

impl std::fmt::Debug for CallTrace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "CallTrace(recording)"
        } else {
            "CallTrace(nothing)"
        })
    }
}

struct CallState {
    instruments: Arc<Instruments>,
    /// The session's clock: every duration is read on it.
    clock: Arc<dyn Clock>,
    started: Instant,
    operation: &'static str,
    template: Option<&'static str>,
    method: &'static str,
    /// The method as sent, when the conventions do not know it (`_OTHER`).
    method_original: Option<StringValue>,
    address: StringValue,
    port: i64,
    /// Where the attempts' spans go: the operation's span, or for a token
    /// call the context it started in; `None`: no spans.
    parent: Option<Context>,
    /// `parent` holds the operation's own span (ended with the call).
    own_span: bool,
    /// The attempt on the wire.
    attempt: Option<Open>,
    /// Requests sent.
    sent: u32,
}

/// An attempt on the wire: when it was sent, and its span.
struct Open {
    started: Instant,
    span: Option<Context>,
}

impl CallTrace {
    /// The trace of a call starting now, recorded with `instruments`.
    pub(super) fn start(
        instruments: Arc<Instruments>,
        call: CallStart<'_>,
        now: Instant,
    ) -> CallTrace {
        let url = call.request.url();
        let method = method_name(call.request.method());
        let method_original = (method == "_OTHER")
            .then(|| StringValue::from(call.request.method().as_str().to_owned()));
        let address = instruments.address(url.host_str().unwrap_or_default());
        let port = i64::from(url.port_or_known_default().unwrap_or(0));
        let operation = call.security.operation_id;
        let (parent, own_span) = if !instruments.traces() {
            (None, false)
        } else if call.token_call {
            // Under the fetch that sends it (the current context).
            (Some(Context::current()), false)
        } else {
            let current = Context::current();
            let span = instruments
                .tracer
                .span_builder(operation_span_name(call.provider, operation))
                .with_kind(SpanKind::Internal)
                .with_attributes([
                    KeyValue::new(attr::PROVIDER, call.provider),
                    KeyValue::new(attr::OPERATION, operation),
                ])
                .start_with_context(&instruments.tracer, &current);
            if instruments.learn(&current, span.span_context()) {
                (Some(current.with_span(span)), true)
            } else {
                (None, false)
            }
        };
        if parent.is_none() && !instruments.measures {
            return CallTrace(None);
        }
        CallTrace(Some(Box::new(CallState {
            instruments,
            clock: Arc::clone(call.clock),
            started: now,
            operation,
            template: call.security.url_template,
            method,
            method_original,
            address,
            port,
            parent,
            own_span,
            attempt: None,
            sent: 0,
        })))
    }

    /// The context the call runs in when it has a span of its own (its
    /// token fetches become the span's children, and link to it).
    pub(crate) fn context(&self) -> Option<Context> {
        self.0
            .as_ref()
            .filter(|s| s.own_span)
            .and_then(|s| s.parent.clone())
    }

    /// An attempt goes out: its span starts (its context goes on the
    /// request, for the application's propagator) and its clock runs.
    pub(super) fn attempt_started(
        &mut self,
        at: Attempt<'_>,
        request: &mut Request,
        resend: Option<Resend>,
    ) {
        let Some(s) = self.0.as_deref_mut() else {
            inject_current(request.headers_mut());
            return;
        };
        let now = s.clock.now();
        s.sent = s.sent.saturating_add(1);
        let span = match &s.parent {
            Some(parent) => s.client_span(parent, at, request, resend),
            None => None,
        };
        match &span {
            Some(cx) => inject(cx, request.headers_mut()),
            None => inject_current(request.headers_mut()),
        }
        s.attempt = Some(Open { started: now, span });
    }

    /// The attempt came back: its span ends with the answer, and its
    /// duration is recorded.
    pub(super) fn attempt_answered(&mut self, answer: Answered<'_>) {
        let Some(s) = self.0.as_deref_mut() else {
            return;
        };
        let Some(open) = s.attempt.take() else {
            return;
        };
        let (status, version, error) = match answer {
            Answered::Response(resp) => {
                let status = resp.status().as_u16();
                (
                    Some(status),
                    protocol_version(resp.version()),
                    status_error(status),
                )
            }
            Answered::Failed(e) => (None, None, Some(Value::from(transport_error(e)))),
        };
        s.close(open, status, version, error);
    }

    /// The call ended: the operation's span ends with its answer, and its
    /// duration is recorded.
    pub(super) fn call_ended(&mut self, end: CallEnd<'_>) {
        let Some(mut s) = self.0.take() else {
            return;
        };
        if let Some(open) = s.attempt.take() {
            // (Every attempt is answered before the call ends.)
            s.close(open, None, None, None);
        }
        let (status, error) = match end {
            CallEnd::Response(resp) => {
                let status = resp.status().as_u16();
                (Some(status), status_error(status))
            }
            CallEnd::Failed(e) => (None, Some(Value::from(transport_error(e)))),
            CallEnd::Refused(e) => (None, Some(Value::from(e.kind().as_str()))),
        };
        s.finish(status, error);
    }
}

impl Drop for CallTrace {
    fn drop(&mut self) {
        let Some(mut s) = self.0.take() else {
            return;
        };
        if let Some(open) = s.attempt.take() {
            s.close(open, None, None, Some(Value::from("cancelled")));
        }
        s.finish(None, Some(Value::from("cancelled")));
    }
}

/// `exirom.create_card_payment`; a hand-made request, which has no
/// operation id: `exirom.send`.
fn operation_span_name(provider: &'static str, operation: &'static str) -> Cow<'static, str> {
    if operation.is_empty() || operation.starts_with('(') {
        Cow::Owned(format!("{provider}.send"))
    } else {
        Cow::Owned(format!("{provider}.{operation}"))
    }
}

/// A resend's reason as `payauth.retry.reason`: the status that asked
/// for it (`401` for a renewal), `timeout` or `connection`.
pub(super) fn retry_reason(reason: RetryReason) -> Value {
    match reason {
        RetryReason::Status(s) => {
            status_error(s).unwrap_or_else(|| Value::String(s.to_string().into()))
        }
        RetryReason::Timeout => "timeout".into(),
        RetryReason::Connection => "connection".into(),
    }
}

impl CallState {
    /// The `CLIENT` span of attempt `at`, under `parent`: `{METHOD}
    /// {url.template}` (`HTTP` for a method the conventions do not know;
    /// the method alone without a template).
    fn client_span(
        &self,
        parent: &Context,
        at: Attempt<'_>,
        request: &Request,
        resend: Option<Resend>,
    ) -> Option<Context> {
        let i = &self.instruments;
        let method = if self.method == "_OTHER" {
            "HTTP"
        } else {
            self.method
        };
        let name = match self.template {
            Some(template) => Cow::Owned(format!("{method} {template}")),
            None => Cow::Borrowed(method),
        };
        let mut attributes = Vec::with_capacity(11);
        attributes.push(KeyValue::new("http.request.method", self.method));
        if let Some(original) = &self.method_original {
            attributes.push(KeyValue::new(
                "http.request.method_original",
                original.clone(),
            ));
        }
        attributes.push(KeyValue::new("server.address", self.address.clone()));
        attributes.push(KeyValue::new("server.port", self.port));
        attributes.push(KeyValue::new("url.full", redacted_url(request.url())));
        if let Some(template) = self.template {
            attributes.push(KeyValue::new("url.template", template));
        }
        attributes.push(KeyValue::new(attr::PROVIDER, i.provider));
        attributes.push(KeyValue::new(attr::OPERATION, self.operation));
        if at.number > 1 {
            attributes.push(KeyValue::new(
                "http.request.resend_count",
                i64::from(at.number - 1),
            ));
        }
        match resend {
            Some(Resend::Renewal) => attributes.push(KeyValue::new(attr::RETRY_REASON, "401")),
            Some(Resend::Retry(reason)) => {
                attributes.push(KeyValue::new(attr::RETRY_REASON, retry_reason(reason)))
            }
            None => {}
        }
        let span = i
            .tracer
            .span_builder(name)
            .with_kind(SpanKind::Client)
            .with_attributes(attributes)
            .start_with_context(&i.tracer, parent);
        i.learn(parent, span.span_context())
            .then(|| parent.with_span(span))
    }

    /// Attempt `open` came back with `status` / `error`.
    fn close(
        &mut self,
        open: Open,
        status: Option<u16>,
        version: Option<&'static str>,
        error: Option<Value>,
    ) {
        let now = self.clock.now();
        let status = status.map(|s| KeyValue::new("http.response.status_code", i64::from(s)));
        let error = error.map(|e| KeyValue::new("error.type", e));
        let version = version.map(|v| KeyValue::new("network.protocol.version", v));
        if let Some(cx) = &open.span {
            let span = cx.span();
            span.set_attributes(status.iter().chain(&error).chain(&version).cloned());
            if error.is_some() {
                span.set_status(Status::error(""));
            }
            span.end();
        }
        if self.instruments.measures {
            let mut attributes = self.request_attributes(7);
            attributes.extend(status.into_iter().chain(error).chain(version));
            let seconds = now.saturating_duration_since(open.started).as_secs_f64();
            self.instruments
                .meters
                .request_duration
                .record(seconds, &attributes);
        }
    }

    /// The call ended with `status` / `error`.
    fn finish(&mut self, status: Option<u16>, error: Option<Value>) {
        let now = self.clock.now();
        let status = status.map(|s| KeyValue::new("http.response.status_code", i64::from(s)));
        let error = error.map(|e| KeyValue::new("error.type", e));
        if self.own_span
            && let Some(cx) = &self.parent
        {
            let span = cx.span();
            if let Some(error) = &error {
                span.set_attribute(error.clone());
                span.set_status(Status::error(""));
            }
            span.end();
        }
        if !self.instruments.measures {
            return;
        }
        let meters = &self.instruments.meters;
        if self.sent == 0 {
            let mut attributes = vec![KeyValue::new(attr::OPERATION, self.operation)];
            attributes.extend(error.iter().cloned());
            meters.unsent_calls.add(1, &attributes);
        }
        let mut attributes = self.request_attributes(6);
        attributes.extend(status.into_iter().chain(error));
        let seconds = now.saturating_duration_since(self.started).as_secs_f64();
        meters.operation_duration.record(seconds, &attributes);
    }

    /// Method, address, port and operation: what every duration point
    /// carries, with room for `more`.
    fn request_attributes(&self, capacity: usize) -> Vec<KeyValue> {
        let mut attributes = Vec::with_capacity(capacity);
        attributes.push(KeyValue::new("http.request.method", self.method));
        attributes.push(KeyValue::new("server.address", self.address.clone()));
        attributes.push(KeyValue::new("server.port", self.port));
        attributes.push(KeyValue::new(attr::OPERATION, self.operation));
        attributes
    }
}

/// The application's propagator's headers for `cx` on a request.
fn inject(cx: &Context, headers: &mut HeaderMap) {
    opentelemetry::global::get_text_map_propagator(|p| {
        p.inject_context(cx, &mut HeaderInjector(headers))
    });
}

/// The current context's trace on a request when it has one (a span of
/// the application's, this client making none): nothing otherwise.
fn inject_current(headers: &mut HeaderMap) {
    Context::map_current(|cx| {
        if cx.span().span_context().is_valid() {
            inject(cx, headers);
        }
    });
}

struct HeaderInjector<'a>(&'a mut HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(key.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}
