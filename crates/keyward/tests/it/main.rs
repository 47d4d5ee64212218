//! keyward's integration tests, one binary (see STYLE.md). Each HTTP test starts the real
//! server on port 0 over a fresh SQLite database through `support::TestApp`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod key_lifecycle;
mod roles_and_scopes;
mod roles_members;
mod store_contract;
mod support;
