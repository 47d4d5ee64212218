//! Storage backends: implementations of `keyward_core::store::Store`, one per database.

pub mod sqlite;
pub(crate) mod written;
