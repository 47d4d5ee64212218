//! keyward's integration tests, one binary (see STYLE.md). Each HTTP test starts the real
//! server on port 0 over a fresh SQLite database through `support::TestApp`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod errors;
mod key_lifecycle;
mod operations;
mod store_contract;
// Shared helpers: not every test module uses each of them.
#[allow(dead_code)]
mod support;
