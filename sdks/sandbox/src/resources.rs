//! What the emulated operations create and can read back: exirom card
//! payments (by `requestId` and by `transactionId`), axept transactions
//! (by `uti`), pledg purchase links. Bounded: past `MAX_PER_KIND` entries
//! a kind refuses new ones with the provider's 503 (a test never gets near).

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::Value;

use crate::state::lock;
use crate::types::Provider;

/// Upper bound of stored resources of one kind.
pub(crate) const MAX_PER_KIND: usize = 100_000;

/// An exirom payment: the request body it was created from (for the
/// idempotency check) and the 200 answer it got (replayed verbatim).
#[derive(Debug, Clone)]
pub(crate) struct Payment {
    pub request: Value,
    pub answer: Value,
}

#[derive(Debug, Default)]
pub(crate) struct Resources {
    /// requestId → payment.
    pub payments: Mutex<HashMap<String, Payment>>,
    /// transactionId → requestId.
    pub payment_ids: Mutex<HashMap<String, String>>,
    /// requestId → card payout (exirom).
    pub payouts: Mutex<HashMap<String, Payment>>,
    /// transactionId → requestId of a payout.
    pub payout_ids: Mutex<HashMap<String, String>>,
    /// uti → the signature decision posted for it (axept).
    pub decisions: Mutex<HashMap<String, Value>>,
    /// uti → transaction (sorted: listing order is stable).
    pub transactions: Mutex<BTreeMap<String, Value>>,
    /// uti → the request that started it (a repeat of it is answered again).
    pub transaction_requests: Mutex<HashMap<String, Value>>,
    pub purchase_links: Mutex<HashMap<String, Value>>,
    seq: AtomicU64,
    created: [AtomicU64; 5],
}

impl Resources {
    pub fn next_id(&self, prefix: &str) -> String {
        format!(
            "{prefix}{}",
            100_001 + self.seq.fetch_add(1, Ordering::Relaxed)
        )
    }

    pub fn count_created(&self, p: Provider) {
        self.created[p.index()].fetch_add(1, Ordering::Relaxed);
    }

    pub fn created(&self, p: Provider) -> u64 {
        self.created[p.index()].load(Ordering::Relaxed)
    }

    pub fn payout_by_transaction(&self, id: &str) -> Option<Payment> {
        let request_id = lock(&self.payout_ids).get(id).cloned()?;
        lock(&self.payouts).get(&request_id).cloned()
    }

    pub fn payment_by_transaction(&self, id: &str) -> Option<Payment> {
        let request_id = lock(&self.payment_ids).get(id).cloned()?;
        lock(&self.payments).get(&request_id).cloned()
    }
}
