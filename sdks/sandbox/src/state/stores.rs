//! What the emulated operations create: each provider keeps its own store type here
//! (made on first use), plus the per-provider "created" counts and one id sequence.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::provider::Provider;
use crate::sync::lock;

/// Upper bound of stored resources of one kind: past it a kind refuses new ones with the
/// provider's 503 (a test never gets near).
pub(crate) const MAX_PER_KIND: usize = 100_000;

type AnyStore = Arc<dyn Any + Send + Sync>;

#[derive(Debug)]
pub(crate) struct Stores {
    by_type: Mutex<HashMap<TypeId, AnyStore>>,
    /// Resources created, per provider index (idempotent repeats excluded).
    created: Vec<AtomicU64>,
    seq: AtomicU64,
}

impl Stores {
    pub(crate) fn new() -> Self {
        Stores {
            by_type: Mutex::new(HashMap::new()),
            created: Provider::all().map(|_| AtomicU64::new(0)).collect(),
            seq: AtomicU64::new(0),
        }
    }

    /// The store of type `T` of this sandbox (made empty on first use).
    pub(crate) fn get<T: Default + Send + Sync + 'static>(&self) -> Arc<T> {
        let mut map = lock(&self.by_type);
        let slot = map
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Arc::new(T::default()));
        match slot.clone().downcast::<T>() {
            Ok(store) => store,
            // Keyed by `TypeId::of::<T>()`: the slot holds a `T`.
            Err(_) => {
                let fresh = Arc::new(T::default());
                *slot = fresh.clone();
                fresh
            }
        }
    }

    /// A fresh id, e.g. `txn_100001` (one sequence for every kind).
    pub(crate) fn next_id(&self, prefix: &str) -> String {
        format!(
            "{prefix}{}",
            100_001 + self.seq.fetch_add(1, Ordering::Relaxed)
        )
    }

    pub(crate) fn count_created(&self, p: Provider) {
        if let Some(c) = self.created.get(p.index()) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn created(&self, p: Provider) -> u64 {
        self.created
            .get(p.index())
            .map_or(0, |c| c.load(Ordering::Relaxed))
    }
}
