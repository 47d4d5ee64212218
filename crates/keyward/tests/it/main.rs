//! keyward's integration tests, one binary (see STYLE.md).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod store_contract;
