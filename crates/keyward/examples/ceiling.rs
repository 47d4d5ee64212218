//! The ceiling of the HTTP benchmarks (bench/http.sh): a bare axum server, on the same tokio
//! runtime keyward uses, whose `POST /verify` answers a constant without reading anything.
//! No verification service can be faster over HTTP on this machine; keyward's verify is
//! measured as a share of it.
//!
//!   cargo run --release --example ceiling -- 127.0.0.1:9101

use axum::routing::post;
use axum::{Json, Router};

/// The same allocator as keyward's binary, so that the two differ only in what they do.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9101".into());
    let app = Router::new().route(
        "/verify",
        post(|| async { Json(serde_json::json!({"valid": true, "code": "VALID"})) }),
    );
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("ceiling listening on http://{addr}");
    axum::serve(listener, app).await
}
