//! JSON pointer segments (RFC 6901), as the lint reports places and the
//! README's list of assumptions names them.

/// Escapes one JSON pointer segment: `~` → `~0`, `/` → `~1`.
pub(crate) fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// The segment [`escape`] was given back: `~1` → `/`, `~0` → `~`.
pub(crate) fn unescape(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_pointer_segments() {
        assert_eq!(escape("/v1/auth"), "~1v1~1auth");
        assert_eq!(escape("a~b/c"), "a~0b~1c");
        for segment in ["/v1/auth", "a~b/c", "~1", "~01", "plain"] {
            assert_eq!(unescape(&escape(segment)), segment);
        }
    }
}
