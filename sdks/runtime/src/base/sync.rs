//! Locks that outlive a panic.

use std::sync::{Mutex, MutexGuard};

/// `m`'s guard, even if a thread panicked while holding it: every lock of
/// the runtime guards data that stays consistent between statements (a
/// slot, a map, a counter), so a poisoned lock is still usable, and a
/// panic in one caller must not take every later caller down with it.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
