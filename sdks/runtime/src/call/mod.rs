//! The call layer: a session puts the credentials each operation needs on
//! its request, sends the attempts, and decides after each what comes next.

pub(crate) mod attempts;
pub(crate) mod classify;
mod credentials;
pub(crate) mod decide;
pub(crate) mod exchange;
pub mod replay;
pub(crate) mod session;
mod settings;
pub mod signing;

#[cfg(test)]
mod tests;
