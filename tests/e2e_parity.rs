//! The parity rules of architecture.md: the same calls give the same results through the
//! host (emulated) and through `handler serve`.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::mcp_cases::{self, CLIENT_KEY};
use handler::local_blobs::LocalBlobs;
use handler::serve_mcp::{self, ServeSettings};
use host_emulator::{EmulatorOptions, RunningEmulator};
use tokio_util::sync::CancellationToken;

#[tokio::test]
async fn both_front_doors_answer_alike() {
    let app = tempfile::tempdir().expect("tempdir");
    mcp_cases::lay_out_app(app.path());
    let mut opts = EmulatorOptions::new(app.path());
    opts.key = Some(CLIENT_KEY.to_owned());
    let emu = RunningEmulator::start(opts).await.expect("emulator");
    let hosted = mcp_cases::connect(&emu.mcp_url(), Some(CLIENT_KEY)).await;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!(
        "http://{}/runtime/webhooks/mcp",
        listener.local_addr().expect("addr")
    );
    let snippets = tempfile::tempdir().expect("tempdir");
    let settings = ServeSettings {
        key: None,
        allowed_hosts: Vec::new(),
        call_timeout: Duration::from_secs(10),
        blobs: LocalBlobs::new(snippets.path()),
    };
    let shutdown = CancellationToken::new();
    let registry = Arc::new(mcp_tools::tools::builtin().expect("registry"));
    tokio::spawn(serve_mcp::run(
        listener,
        registry,
        settings,
        shutdown.clone(),
    ));
    let self_hosted = mcp_cases::connect(&url, None).await;

    assert_eq!(
        mcp_cases::listed_tools(&hosted).await,
        mcp_cases::listed_tools(&self_hosted).await,
        "tools/list schemas differ"
    );
    let a = mcp_cases::run_all(&hosted, "p").await;
    let b = mcp_cases::run_all(&self_hosted, "p").await;
    for (case, outcome) in &a {
        assert_eq!(
            Some(outcome),
            b.get(case),
            "case {case} differs between front doors"
        );
    }
    shutdown.cancel();
    emu.shutdown().await;
}
