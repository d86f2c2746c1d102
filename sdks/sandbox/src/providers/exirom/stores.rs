//! What exirom's operations create: card payments, APM payments and card payouts, each
//! kind in its own store with its own `requestId`s (our assumption: the pages document the
//! key for card payments only), all numbered from one `transactionId` sequence.

use crate::emulation::idempotency::{IdempotentStore, Record};
use crate::state::Inner;

#[derive(Debug, Default)]
pub(super) struct CardPayments(pub IdempotentStore);

#[derive(Debug, Default)]
pub(super) struct ApmPayments(pub IdempotentStore);

#[derive(Debug, Default)]
pub(super) struct Payouts(pub IdempotentStore);

/// Which of exirom's objects a record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Card,
    Apm,
    Payout,
}

impl Kind {
    pub(super) const ALL: [Kind; 3] = [Kind::Card, Kind::Apm, Kind::Payout];

    /// Runs `f` on this kind's store.
    pub(super) fn with<T>(self, st: &Inner, f: impl FnOnce(&IdempotentStore) -> T) -> T {
        match self {
            Kind::Card => f(&st.store::<CardPayments>().0),
            Kind::Apm => f(&st.store::<ApmPayments>().0),
            Kind::Payout => f(&st.store::<Payouts>().0),
        }
    }

    /// The field of the request naming the account its callback carries as `accountId`:
    /// an APM request's own `accountId` (documented), a card request's `mid` (our
    /// assumption).
    pub(super) fn account_field(self) -> &'static str {
        match self {
            Kind::Apm => "accountId",
            Kind::Card | Kind::Payout => "mid",
        }
    }

    pub(super) fn by_key(self, st: &Inner, key: &str) -> Option<Record> {
        self.with(st, |s| s.by_key(key))
    }

    /// The record of `transaction_id` whichever kind it is.
    pub(super) fn find(st: &Inner, transaction_id: &str) -> Option<(Kind, Record)> {
        Kind::ALL
            .into_iter()
            .find_map(|k| k.with(st, |s| s.by_id(transaction_id)).map(|r| (k, r)))
    }
}
