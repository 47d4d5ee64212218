//! keyward's domain: the key format, scopes and roles, the storage trait it owns, and the
//! service layer that the HTTP API, the console and the CLI all call.

pub mod error;
pub mod key_format;
pub mod model;
pub mod scope;
pub mod secret;
pub mod store;
pub mod validate;

pub use error::{Error, Result};
