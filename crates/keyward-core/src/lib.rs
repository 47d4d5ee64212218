//! keyward's domain: the key format, scopes and roles, the storage trait it owns, the
//! verification hot path, and the service layer that the HTTP API, the console and the CLI
//! all call.

pub mod cache;
pub mod error;
#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures;
pub mod imported;
pub mod key_format;
pub mod limiter;
pub mod mail;
pub mod model;
pub mod password;
pub mod patterns;
pub mod scope;
pub mod secret;
pub mod service;
pub mod store;
pub mod usage;
pub mod validate;
pub mod verify;

pub use error::{Error, Result};
pub use service::Service;
