//! The telemetry hooks without the `otel` feature: nothing, inlined away.

use super::setting::{FetchReport, Telemetry};
use crate::observe::events::Observe;

/// Where a client's telemetry goes: nowhere. (Not a unit struct: made with
/// `Recorder::default()` where the `otel` one is.)
#[derive(Clone, Default, Debug)]
pub(crate) struct Recorder(());

/// Nothing observed: every event is the trait's no-op.
impl Observe for Recorder {}

/// A token fetch's span: none.
#[derive(Debug, Default)]
pub(crate) struct FetchSpan;

/// What a waiter links to: nothing.
#[derive(Clone, Debug, Default)]
pub(crate) struct FlightLink;

impl Recorder {
    #[inline(always)]
    pub(crate) fn new(_: &Telemetry, _: &'static str, _: &'static str) -> Recorder {
        Recorder(())
    }
    #[inline(always)]
    pub(crate) fn fetch(&self, _: &'static str, _: bool, _: std::time::Instant) -> FetchSpan {
        FetchSpan
    }
    #[inline(always)]
    pub(crate) fn waited(&self, _: &FlightLink, _: bool) {}
}

impl FetchSpan {
    #[inline(always)]
    pub(crate) fn is_traced(&self) -> bool {
        false
    }
    #[inline(always)]
    pub(crate) fn link(&self) -> FlightLink {
        FlightLink
    }
    #[inline(always)]
    pub(crate) fn attach<F: Future>(&self, fetch: F) -> F {
        fetch
    }
    #[inline(always)]
    pub(crate) fn finish(self, _: FetchReport, _: std::time::Instant) {}
}
