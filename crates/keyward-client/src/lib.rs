//! A client for keyward's HTTP API, and the contexts the `keyward` CLI stores so that a key
//! is not pasted into every command.
//!
//! It never touches a database or the server's config: everything goes over HTTP, so the
//! CLI's client commands behave exactly like any other caller of the API.

mod api;
mod contexts;

pub use api::{ApiError, Client, ClientError, Page};
pub use contexts::{display_prefix, Context, ContextError, Contexts};
