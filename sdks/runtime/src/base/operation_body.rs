//! A typed operation's JSON body, as its builder holds it until `send`.
//!
//! progenitor's operation builders keep the body as its *builder* type
//! (`Result<types::builder::X, String>`, started at `Default::default()`):
//! every `.body(value)` converts the value to `X` (checking it), then back
//! to a builder, and `send` converts it to `X` once more; the default
//! builder formats and allocates a "no value supplied" message for each
//! required field, on every operation built, only to drop it when the body
//! is set. `codegen::tidy` swaps the field for an [`OperationBody`]: a body
//! given whole is kept as the checked value and sent as it is; only
//! `body_map` works on a builder (from the value, or from the default when
//! no body was given), checked at `send` as before. Errors and their
//! messages are progenitor's.

use std::fmt::Display;

/// The body of an operation being built. `T` is the body's type, `B` its
/// builder. Written by generated code; not for direct use.
#[doc(hidden)]
#[derive(Debug, Clone)]
pub enum OperationBody<T, B> {
    /// Nothing given yet: `send` checks the default builder.
    Unset,
    /// A whole body given to `.body(…)`, already checked.
    Value(T),
    /// A body being built by `.body_map(…)`, checked at `send`.
    Builder(B),
    /// A body that could not be converted: the message `send` returns.
    Invalid(String),
}

impl<T, B> OperationBody<T, B>
where
    B: Default + From<T>,
    T: TryFrom<B>,
    <T as TryFrom<B>>::Error: Display,
{
    /// What `.body(value)` leaves: the converted value, or its message.
    pub fn given(value: Result<T, String>) -> Self {
        match value {
            Ok(v) => OperationBody::Value(v),
            Err(e) => OperationBody::Invalid(e),
        }
    }

    /// `.body_map(f)`: `f` applied to the body's builder — the default
    /// one when nothing was given.
    pub fn map(self, f: impl FnOnce(B) -> B) -> Self {
        match self {
            OperationBody::Unset => OperationBody::Builder(f(B::default())),
            OperationBody::Value(v) => OperationBody::Builder(f(B::from(v))),
            OperationBody::Builder(b) => OperationBody::Builder(f(b)),
            OperationBody::Invalid(e) => OperationBody::Invalid(e),
        }
    }

    /// The body to send, or the message of why it cannot be.
    ///
    /// # Errors
    ///
    /// No body was given, or the given one (or its builder) did not
    /// convert: the conversion's message.
    pub fn value(self) -> Result<T, String> {
        match self {
            OperationBody::Value(v) => Ok(v),
            OperationBody::Unset => T::try_from(B::default()).map_err(|e| e.to_string()),
            OperationBody::Builder(b) => T::try_from(b).map_err(|e| e.to_string()),
            OperationBody::Invalid(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A body type with one required field, as progenitor writes them.
    #[derive(Debug, Clone, PartialEq)]
    struct Body {
        email: String,
        note: Option<String>,
    }

    #[derive(Debug, Clone)]
    struct Builder {
        email: Result<String, String>,
        note: Result<Option<String>, String>,
    }

    impl Default for Builder {
        fn default() -> Self {
            Builder {
                email: Err("no value supplied for email".to_string()),
                note: Ok(None),
            }
        }
    }

    impl Builder {
        fn email(mut self, v: &str) -> Self {
            self.email = Ok(v.to_string());
            self
        }
        fn note(mut self, v: &str) -> Self {
            self.note = Ok(Some(v.to_string()));
            self
        }
    }

    impl TryFrom<Builder> for Body {
        type Error = String;
        fn try_from(b: Builder) -> Result<Self, String> {
            Ok(Body {
                email: b.email?,
                note: b.note?,
            })
        }
    }

    impl From<Body> for Builder {
        fn from(b: Body) -> Self {
            Builder {
                email: Ok(b.email),
                note: Ok(b.note),
            }
        }
    }

    type Op = OperationBody<Body, Builder>;

    fn body(email: &str) -> Body {
        Body {
            email: email.into(),
            note: None,
        }
    }

    #[test]
    fn a_given_body_is_sent_as_it_is() {
        assert_eq!(Op::given(Ok(body("a@b.c"))).value(), Ok(body("a@b.c")));
    }

    #[test]
    fn nothing_given_is_the_default_builder_checked() {
        assert_eq!(
            Op::Unset.value(),
            Err("no value supplied for email".to_string())
        );
        assert_eq!(
            Op::Unset.map(|b| b.email("x@y.z")).value(),
            Ok(body("x@y.z"))
        );
    }

    #[test]
    fn body_map_starts_from_the_given_body_and_is_checked_at_the_end() {
        let sent = Op::given(Ok(body("a@b.c")))
            .map(|b| b.note("n"))
            .map(|b| b.email("d@e.f"))
            .value();
        assert_eq!(
            sent,
            Ok(Body {
                email: "d@e.f".into(),
                note: Some("n".into())
            })
        );
        // An intermediate builder may be incomplete: only `send` checks.
        let later = Op::Unset.map(|b| b.note("n")).map(|b| b.email("g@h.i"));
        assert!(later.value().is_ok());
    }

    #[test]
    fn a_conversion_failure_is_kept_to_send() {
        let failed = Op::given(Err("conversion failed".into())).map(|b| b.email("a@b.c"));
        assert_eq!(failed.value(), Err("conversion failed".to_string()));
    }
}
