//! The latest event of each recent callback, for the control plane's
//! `GET /__sandbox/callbacks` and [`crate::Sandbox::callbacks`]: how a callback a tool
//! caused went, without subscribing before causing it.

use std::collections::VecDeque;
use std::sync::Mutex;

use crate::events::CallbackEvent;
use crate::sync::lock;

/// Callbacks remembered; older ones are forgotten first.
pub(crate) const REMEMBERED: usize = 200;

#[derive(Debug, Default)]
pub(crate) struct Recent(Mutex<VecDeque<CallbackEvent>>);

impl Recent {
    /// Keeps `event` as the latest of its delivery.
    pub(crate) fn record(&self, event: &CallbackEvent) {
        let mut all = lock(&self.0);
        if let Some(slot) = all.iter_mut().rev().find(|e| e.delivery == event.delivery) {
            *slot = event.clone();
            return;
        }
        if all.len() >= REMEMBERED {
            all.pop_front();
        }
        all.push_back(event.clone());
    }

    /// Oldest first.
    pub(crate) fn all(&self) -> Vec<CallbackEvent> {
        lock(&self.0).iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;

    use super::*;
    use crate::events::CallbackOutcome;
    use crate::provider::Provider;

    fn event(delivery: u64, attempt: u32) -> CallbackEvent {
        CallbackEvent {
            at: DateTime::UNIX_EPOCH,
            delivery,
            provider: Provider::named("axept"),
            object: format!("o{delivery}"),
            status: "Complete".into(),
            url: "http://127.0.0.1/x".into(),
            forwarded: false,
            attempt,
            max_attempts: 6,
            outcome: CallbackOutcome::Delivered { status: 200 },
        }
    }

    #[test]
    fn one_entry_per_delivery_and_a_bounded_memory() {
        let r = Recent::default();
        r.record(&event(1, 1));
        r.record(&event(1, 2));
        assert_eq!(r.all().len(), 1);
        assert_eq!(r.all()[0].attempt, 2);
        for d in 2..=(REMEMBERED as u64 + 10) {
            r.record(&event(d, 1));
        }
        let all = r.all();
        assert_eq!(all.len(), REMEMBERED);
        assert_eq!(all[0].delivery, 11);
    }
}
