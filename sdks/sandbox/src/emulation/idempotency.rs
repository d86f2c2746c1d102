//! Idempotent creation by a client-chosen key (exirom's `requestId`, axept's `uti`):
//! the same request again gets the original answer, the key with another request is a
//! conflict, and nothing is created twice. One store per kind of resource.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use serde_json::Value;

use crate::state::MAX_PER_KIND;
use crate::sync::lock;

/// One created resource: the server's id, the request it came from, the answer it got
/// (which later events may change, e.g. a status).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Record {
    pub id: String,
    pub request: Value,
    pub answer: Value,
}

/// What [`IdempotentStore::create`] did.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Created<R> {
    /// Created now: the answer.
    New(Value),
    /// The same request under the same key again: the original answer.
    Replayed(Value),
    /// The key names another request.
    Conflict,
    /// The store holds [`MAX_PER_KIND`] resources already.
    Full,
    /// The new request was refused by the caller's check.
    Refused(R),
}

#[derive(Debug, Default)]
struct Book {
    /// key → record (ordered: listings are stable).
    by_key: BTreeMap<String, Record>,
    /// server id → key.
    key_of_id: HashMap<String, String>,
}

#[derive(Debug, Default)]
pub(crate) struct IdempotentStore {
    book: Mutex<Book>,
}

impl IdempotentStore {
    /// Creates the resource named `key` from `request`, once. A key seen before answers
    /// [`Created::Replayed`] (same request) or [`Created::Conflict`]; for a new key,
    /// `check` may refuse it, then `make` gives `(id, answer)` (under the store's lock,
    /// so two racing requests create one resource).
    pub(crate) fn create<R>(
        &self,
        key: &str,
        request: Value,
        check: impl FnOnce() -> Result<(), R>,
        make: impl FnOnce() -> (String, Value),
    ) -> Created<R> {
        let mut book = lock(&self.book);
        if let Some(existing) = book.by_key.get(key) {
            return if existing.request == request {
                Created::Replayed(existing.answer.clone())
            } else {
                Created::Conflict
            };
        }
        if let Err(r) = check() {
            return Created::Refused(r);
        }
        if book.by_key.len() >= MAX_PER_KIND {
            return Created::Full;
        }
        let (id, answer) = make();
        book.key_of_id.insert(id.clone(), key.to_owned());
        book.by_key.insert(
            key.to_owned(),
            Record {
                id,
                request,
                answer: answer.clone(),
            },
        );
        Created::New(answer)
    }

    /// Stores `record` under `key` unless the key is taken (a sample resource).
    pub(crate) fn seed(&self, key: &str, record: impl FnOnce() -> Record) {
        let mut book = lock(&self.book);
        if !book.by_key.contains_key(key) {
            let r = record();
            book.key_of_id.insert(r.id.clone(), key.to_owned());
            book.by_key.insert(key.to_owned(), r);
        }
    }

    pub(crate) fn by_key(&self, key: &str) -> Option<Record> {
        lock(&self.book).by_key.get(key).cloned()
    }

    pub(crate) fn by_id(&self, id: &str) -> Option<Record> {
        let book = lock(&self.book);
        let key = book.key_of_id.get(id)?;
        book.by_key.get(key).cloned()
    }

    /// Changes the answer recorded under `key`; `None` for an unknown key.
    pub(crate) fn update<T>(&self, key: &str, f: impl FnOnce(&mut Record) -> T) -> Option<T> {
        lock(&self.book).by_key.get_mut(key).map(f)
    }

    /// The answers of the records `keep` accepts, in key order: how many match, and the
    /// `take` of them after skipping `skip`.
    pub(crate) fn page(
        &self,
        keep: impl Fn(&Record) -> bool,
        skip: usize,
        take: usize,
    ) -> (usize, Vec<Value>) {
        let book = lock(&self.book);
        let matching = book.by_key.values().filter(|r| keep(r));
        let total = matching.clone().count();
        let items = matching
            .skip(skip)
            .take(take)
            .map(|r| r.answer.clone())
            .collect();
        (total, items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn make(id: &str) -> impl FnOnce() -> (String, Value) + '_ {
        move || (id.to_owned(), json!({"id": id}))
    }

    #[test]
    fn a_key_creates_once_and_replays_its_answer() {
        let s = IdempotentStore::default();
        let ok = || Ok::<(), ()>(());
        assert_eq!(
            s.create("k1", json!({"a": 1}), ok, make("t1")),
            Created::New(json!({"id": "t1"}))
        );
        assert_eq!(
            s.create("k1", json!({"a": 1}), ok, make("t2")),
            Created::Replayed(json!({"id": "t1"}))
        );
        assert_eq!(
            s.create("k1", json!({"a": 2}), ok, make("t3")),
            Created::Conflict
        );
        assert_eq!(s.by_id("t1").map(|r| r.request), Some(json!({"a": 1})));
        assert!(s.by_id("t2").is_none());
    }

    #[test]
    fn a_refused_request_creates_nothing_and_a_replay_skips_the_check() {
        let s = IdempotentStore::default();
        assert_eq!(
            s.create("k", json!(1), || Err("bad"), make("t1")),
            Created::Refused("bad")
        );
        assert!(s.by_key("k").is_none());
        assert_eq!(
            s.create("k", json!(1), || Ok::<(), &str>(()), make("t1")),
            Created::New(json!({"id": "t1"}))
        );
        assert_eq!(
            s.create("k", json!(1), || Err("bad"), make("t2")),
            Created::Replayed(json!({"id": "t1"}))
        );
    }

    #[test]
    fn pages_follow_key_order_and_the_filter() {
        let s = IdempotentStore::default();
        for k in ["c", "a", "b"] {
            let _ = s.create(
                k,
                json!(k),
                || Ok::<(), ()>(()),
                || (k.to_owned(), json!(k)),
            );
        }
        assert_eq!(s.page(|_| true, 1, 5), (3, vec![json!("b"), json!("c")]));
        assert_eq!(s.page(|r| r.id != "b", 0, 1), (2, vec![json!("a")]));
        assert_eq!(s.update("a", |r| r.answer = json!("A")), Some(()));
        assert_eq!(s.by_key("a").map(|r| r.answer), Some(json!("A")));
    }
}
