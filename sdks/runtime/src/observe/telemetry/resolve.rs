//! Where a client's instruments come from: the providers it was given,
//! made once; or the application's global providers, read on its first
//! call and again when a call comes [`GLOBAL_RECHECK`] after the last
//! reading — so a client built before the application installed its
//! providers reports to them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use arc_swap::{ArcSwapOption, Guard};
use opentelemetry::global::BoxedTracer;
use opentelemetry::metrics::MeterProvider;
use opentelemetry::trace::TracerProvider as _;

use super::instruments::{Instruments, Meters, meter_records, scope};
use super::setting::{Setting, Telemetry};

/// How long a client following the global providers goes on with the
/// ones it read before it reads them again (on its clock). The API gives
/// no sign of a change, and reading them — a lock, a tracer made, a span
/// tried — costs more than a call that records nothing is allowed.
pub(crate) const GLOBAL_RECHECK: Duration = Duration::from_secs(1);

type SharedMeterProvider = Arc<dyn MeterProvider + Send + Sync>;

/// The instruments as read at one time.
pub(super) struct Resolved {
    pub(super) instruments: Arc<Instruments>,
    /// The meter provider they came from: read again and the same, its
    /// meters are kept.
    meter_provider: SharedMeterProvider,
    /// When the global providers were read again last.
    read: Read,
}

#[derive(Clone, Copy)]
enum Read {
    /// Given providers: never read again.
    Never,
    /// The global providers, read at this time.
    At(Instant),
    /// The global providers, read with no clock at hand: again on the
    /// next call.
    Unclocked,
}

/// A client's source of instruments.
pub(super) struct Source {
    provider: &'static str,
    version: &'static str,
    current: ArcSwapOption<Resolved>,
    /// While its providers record nothing (the API's no-op ones), until
    /// when a call need not look at them: nanoseconds after `epoch`, plus
    /// one; 0 when they record. One load and a clock reading are then
    /// all a call costs.
    quiet_until: AtomicU64,
    epoch: OnceLock<Instant>,
}

impl Source {
    /// `None` for [`Telemetry::off`].
    pub(super) fn new(
        telemetry: &Telemetry,
        provider: &'static str,
        version: &'static str,
    ) -> Option<Source> {
        let source = Source {
            provider,
            version,
            current: ArcSwapOption::empty(),
            quiet_until: AtomicU64::new(0),
            epoch: OnceLock::new(),
        };
        match &telemetry.setting {
            Setting::Off => return None,
            // Read on the first call.
            Setting::Global => {}
            Setting::Providers { tracer, meter } => {
                let tracer = BoxedTracer::new(tracer.boxed_tracer(scope(provider, version)));
                let resolved = source.made(tracer, Arc::clone(meter), None, Read::Never);
                source.learned(&resolved);
                source.current.store(Some(Arc::new(resolved)));
            }
        }
        Some(source)
    }

    fn made(
        &self,
        tracer: BoxedTracer,
        meter_provider: SharedMeterProvider,
        kept: Option<&Resolved>,
        read: Read,
    ) -> Resolved {
        let meters = match kept {
            Some(kept) if Arc::ptr_eq(&kept.meter_provider, &meter_provider) => {
                kept.instruments.meters.clone()
            }
            _ => Meters::new(&meter_provider.meter_with_scope(scope(self.provider, self.version))),
        };
        let measures = meter_records(&*meter_provider);
        Resolved {
            instruments: Arc::new(Instruments::new(self.provider, tracer, meters, measures)),
            meter_provider,
            read,
        }
    }

    /// The instruments to use at `now`: the global providers read again
    /// when they were last read [`GLOBAL_RECHECK`] ago or more.
    pub(super) fn at(&self, now: Instant) -> Guard<Option<Arc<Resolved>>> {
        let current = self.current.load();
        let due = match current.as_deref().map(|r| r.read) {
            None | Some(Read::Unclocked) => true,
            Some(Read::Never) => false,
            Some(Read::At(at)) => now.saturating_duration_since(at) >= GLOBAL_RECHECK,
        };
        if !due {
            return current;
        }
        self.read_global(current.as_deref(), Read::At(now))
    }

    /// The instruments last read, or the global providers read now if
    /// they never were (read again on the next call).
    pub(super) fn last_or_read(&self) -> Guard<Option<Arc<Resolved>>> {
        let current = self.current.load();
        if current.is_some() {
            return current;
        }
        self.read_global(None, Read::Unclocked)
    }

    fn read_global(&self, kept: Option<&Resolved>, read: Read) -> Guard<Option<Arc<Resolved>>> {
        let tracer = opentelemetry::global::tracer_provider()
            .tracer_with_scope(scope(self.provider, self.version));
        let meter_provider = opentelemetry::global::meter_provider();
        let resolved = self.made(tracer, meter_provider, kept, read);
        self.learned(&resolved);
        self.current.store(Some(Arc::new(resolved)));
        self.current.load()
    }

    /// `now` on this source's own scale.
    fn nanos(&self, now: Instant) -> u64 {
        let epoch = *self.epoch.get_or_init(|| now);
        u64::try_from(now.saturating_duration_since(epoch).as_nanos()).unwrap_or(u64::MAX - 1)
    }

    /// What `resolved` says of the providers: quiet (recording nothing)
    /// until they are due to be read again, or not.
    pub(super) fn learned(&self, resolved: &Resolved) {
        let until = if resolved.instruments.records() {
            0
        } else {
            match resolved.read {
                Read::Never => u64::MAX,
                Read::At(at) => at
                    .checked_add(GLOBAL_RECHECK)
                    .map_or(u64::MAX - 1, |due| self.nanos(due))
                    .saturating_add(1),
                Read::Unclocked => 0,
            }
        };
        self.quiet_until.store(until, Ordering::Relaxed);
    }

    /// Whether a call at `now` records nothing, known without reading the
    /// providers: they recorded nothing when last read, and are not due.
    #[inline]
    pub(super) fn quiet_at(&self, now: Instant) -> bool {
        let until = self.quiet_until.load(Ordering::Relaxed);
        until != 0 && self.nanos(now) < until - 1
    }

    /// Whether the providers recorded nothing when last read (an event
    /// with no clock at hand: its call's start read them when due).
    #[inline]
    pub(super) fn quiet(&self) -> bool {
        self.quiet_until.load(Ordering::Relaxed) != 0
    }

    /// The instruments last read, for an event with no clock at hand (a
    /// call's own events read them first).
    pub(super) fn last(&self) -> Guard<Option<Arc<Resolved>>> {
        self.current.load()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_apis_no_op_meter_provider_records_nothing_and_the_sdks_does() {
        assert!(!meter_records(
            &opentelemetry::metrics::noop::NoopMeterProvider::new()
        ));
        assert!(meter_records(
            &opentelemetry_sdk::metrics::SdkMeterProvider::builder().build()
        ));
    }
}
