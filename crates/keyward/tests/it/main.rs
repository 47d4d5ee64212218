//! keyward's integration tests, one binary (see STYLE.md). Each HTTP test starts the real
//! server on port 0 over a fresh SQLite database through `support::TestApp`; the process
//! tests run the real binary; the store contract runs against every backend.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod accounts;
mod admin_options;
mod admin_tokens;
mod admin_users;
mod cache;
mod cli_client;
mod compat;
mod config_errors;
mod console;
mod contention;
mod data_dir;
mod errors;
mod hardening;
mod http_edge;
mod import;
mod invitations;
mod key_lifecycle;
mod key_rules;
mod last_used;
mod mail;
mod member_rules;
mod metrics;
mod multinode;
mod no_echo;
mod openapi;
mod operations;
mod pepper;
mod process;
mod request_logs;
mod roles_and_scopes;
mod roles_members;
mod rotation_rules;
mod secret_scanning;
mod secrets;
mod sessions;
mod stale_callers;
mod store_contract;
mod support;
mod upgrade;
mod verify;
mod workspaces;
