//! Rebuilds the crate when a migration file is added or changed: `sqlx::migrate!` embeds
//! the migrations at compile time, and cargo would not otherwise notice a new file.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
