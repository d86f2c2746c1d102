//! Everything that can go wrong between a spec and its generated client.

use crate::lint;

/// Everything that can go wrong between a spec and its generated client.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("unknown provider `{name}` (known: {})", .known.join(", "))]
    UnknownProvider { name: String, known: Vec<String> },
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file} fails lint:\n{}", .errors.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n"))]
    Lint {
        file: String,
        errors: Vec<lint::LintError>,
    },
    #[error("{file}: not an OpenAPI 3.0 document: {message}")]
    Parse { file: String, message: String },
    #[error("{file}: progenitor failed{}: {message}", operation.as_ref().map(|o| format!(" on operation `{o}`")).unwrap_or_default())]
    Generator {
        file: String,
        operation: Option<String>,
        message: String,
    },
    #[error("the providers do not match their specs and crates: {message}")]
    Providers { message: String },
    #[error("the workspace's packages could not be listed: {message}")]
    Workspace { message: String },
    #[error("{file}: generated code does not parse as Rust: {message}")]
    Unparsable { file: String, message: String },
}
