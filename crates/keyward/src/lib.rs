//! keyward server library: configuration, storage backends, the HTTP API, start-up, and the
//! command-line interface. The binary in `main.rs` only calls [`cli::main`].

pub mod app;
pub mod cli;
pub mod config;
pub mod console;
pub mod http;
pub mod logging;
pub mod mail;
pub mod pepper;
pub mod private_files;
pub mod store;
