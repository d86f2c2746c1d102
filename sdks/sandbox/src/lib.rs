pub mod config;
pub mod jwt;
pub mod types;
