//! keyward server library: storage backends, HTTP API and CLI.

pub mod store;
