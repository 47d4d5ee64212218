//! Storage backends: implementations of `keyward_core::store::Store`, one per database, and
//! the row mapping they share.

pub mod postgres;
mod rows;
pub mod sqlite;
pub(crate) mod written;
