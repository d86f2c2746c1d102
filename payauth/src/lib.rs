//! What the `payauth` binary and the workspace's tests share: the one list
//! of providers ([`providers::ALL`]) and the values that point a
//! provider's `from_env` at the local sandbox ([`sandbox_env`]).

pub mod providers;
pub mod sandbox_env;
