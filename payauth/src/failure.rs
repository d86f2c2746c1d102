//! A failure as the process reports it, and the exit codes.

/// Exit code: wrong credentials or configuration.
pub const EXIT_CREDENTIALS: u8 = 2;
/// Exit code: a transient failure.
pub const EXIT_TRANSIENT: u8 = 3;

/// A failure as the process reports it: a message for stderr and the
/// exit code.
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub code: u8,
}

impl Failure {
    pub fn new(code: u8, message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            code,
        }
    }

    /// The exit code a runtime error means.
    pub fn from_error(what: &str, e: &auth_runtime::Error) -> Failure {
        use auth_runtime::ErrorKind as K;
        let code = match e.kind() {
            K::InvalidCredentials | K::Forbidden | K::Unauthorized | K::Config | K::BadRequest => {
                EXIT_CREDENTIALS
            }
            K::Transient => EXIT_TRANSIENT,
            _ => 1,
        };
        // The runtime's message names the provider already.
        if e.provider() == what {
            Failure::new(code, e.to_string())
        } else {
            Failure::new(code, format!("{what}: {e}"))
        }
    }
}
