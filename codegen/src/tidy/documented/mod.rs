//! Docs for every public item of the generated code, so that a provider
//! crate passes `missing_docs` and its `cargo doc` reads as a reference
//! of the provider's API:
//!
//! - each operation (`Client::create_order`) says which credentials it
//!   needs and which failures the spec documents, with an example that
//!   compiles (progenitor's was an `ignore` block) — `operations`;
//! - each operation builder's methods say what they set — `operations`;
//! - the types' builders, `builder()` functions, enum variants, and the
//!   fields the spec leaves undescribed whose type it describes —
//!   `types`.
//!
//! What the spec says comes from `crate::operation_docs`; the rest is
//! what the generated code does.

mod operations;
mod syntax;
mod types;

use std::collections::BTreeSet;

use crate::operation_docs::OperationDocs;

/// Apply the pass; returns the operations of `docs` no generated method
/// was found for.
pub(crate) fn document(
    file: &mut syn::File,
    docs: &OperationDocs,
    crate_name: &str,
) -> BTreeSet<String> {
    types::document_types(file);
    operations::document_operations(file, docs, crate_name)
}
