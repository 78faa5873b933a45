//! The parity rules of architecture.md: the same calls give the same results through the
//! host (emulated) and through `handler serve`.

mod common;

use std::time::Duration;

use common::mcp_cases::{self, CLIENT_KEY};
use host_emulator::{EmulatorOptions, RunningEmulator};

#[tokio::test]
async fn both_front_doors_answer_alike() {
    let app = tempfile::tempdir().expect("tempdir");
    mcp_cases::lay_out_app(app.path());
    let mut opts = EmulatorOptions::new(app.path());
    opts.key = Some(CLIENT_KEY.to_owned());
    let emu = RunningEmulator::start(opts).await.expect("emulator");
    let hosted = mcp_cases::connect(&emu.mcp_url(), Some(CLIENT_KEY)).await;

    let registry = mcp_tools::tools::builtin().expect("registry");
    let served = common::serve::serve_registry(None, registry, Duration::from_secs(10)).await;
    let url = format!("{}/runtime/webhooks/mcp", served.base);
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
    served.shutdown.cancel();
    emu.shutdown().await;
}
