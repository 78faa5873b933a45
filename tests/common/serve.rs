//! `handler serve` started in-process on a free loopback port, as the tests drive it.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use handler::config::Secret;
use handler::local_blobs::LocalBlobs;
use handler::serve_mcp::{self, ServeSettings};
use tokio_util::sync::CancellationToken;

pub struct Served {
    /// `http://127.0.0.1:<port>`
    pub base: String,
    pub shutdown: CancellationToken,
    /// SNIPPETS_DIR; removed when dropped.
    pub snippets: tempfile::TempDir,
}

pub async fn serve_registry(
    key: Option<&str>,
    registry: mcp_tools::Registry,
    call_timeout: Duration,
) -> Served {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let snippets = tempfile::tempdir().expect("tempdir");
    let settings = ServeSettings {
        key: key.map(Secret::new),
        allowed_hosts: Vec::new(),
        call_timeout,
        blobs: LocalBlobs::new(snippets.path()),
    };
    let shutdown = CancellationToken::new();
    tokio::spawn(serve_mcp::run(
        listener,
        Arc::new(registry),
        settings,
        shutdown.clone(),
    ));
    Served {
        base: format!("http://{addr}"),
        shutdown,
        snippets,
    }
}
