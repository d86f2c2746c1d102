//! Spec → Rust: load an OpenAPI spec, lint it, generate a typed client with
//! progenitor, add what progenitor leaves out (the per-operation security
//! table, the hooks that hand every request to the token runtime, the
//! server list), and format it deterministically.
//!
//! `xtask` is the command line over this crate; the tests call it directly.
//!
//! ```no_run
//! let root = codegen::workspace_root();
//! let report = codegen::regen(&root, &[], codegen::Mode::Check).unwrap();
//! assert!(report.stale.is_empty(), "{}", report);
//! ```
//!
//! Files: `regen` (the driver and its `--check`), `generate` (one spec's
//! pipeline), `progenitor_runner`, `emit` (the code progenitor leaves
//! out), `operation_docs` (what an operation's docs say from the spec:
//! credentials, documented failures, parameters), [`tidy`] (passes over
//! the generated syntax, docs included), [`lint`],
//! [`assumptions`], [`secrets`], [`public_api`].

pub mod assumptions;
mod emit;
mod error;
mod generate;
pub mod lint;
mod operation_docs;
mod pointer;
mod progenitor_runner;
pub mod public_api;
mod regen;
pub mod secrets;
pub mod tidy;
mod workspace;

pub use emit::{BODY_CHECKSUM_EXTENSION, IDEMPOTENCY_KEY_EXTENSION, SIGNED_JWT_EXTENSION};
pub use error::Error;
pub use generate::{REGEN_COMMAND, generate, generate_from};
pub use operation_docs::operation_status_kind;
pub use regen::{Mode, Report, Stale, regen};
pub use workspace::{
    Member, members, members_of, output_path, providers, publishable, spec_path, workspace_root,
};
