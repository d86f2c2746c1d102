//! Token lifetimes as a provider documents them ([`Lifetimes`]), and a
//! duration as tools print one ([`human_duration`]).

use std::time::Duration;

/// Token lifetimes as the provider documents them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetimes {
    /// The access token's documented lifetime, when the pages give one.
    pub access: Option<Duration>,
    /// The refresh token's, for providers that issue one.
    pub refresh: Option<Duration>,
    /// Where the expiry is read from, in words.
    pub expiry_from: &'static str,
}

/// A duration for people, to the second: `2d 0h 0min`, `1h 5min 0s`,
/// `26min 51s` — how `payauth check` and the demo print a token's
/// lifetime and refresh lead.
pub fn human_duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        s if s >= 86_400 => format!(
            "{}d {}h {}min",
            s / 86_400,
            s % 86_400 / 3600,
            s % 3600 / 60
        ),
        s if s >= 3600 => format!("{}h {}min {}s", s / 3600, s % 3600 / 60, s % 60),
        s => format!("{}min {}s", s / 60, s % 60),
    }
}
