//! Model A end to end: the built `handler` behind the host emulator (written from the
//! contract, not from our code), driven by rmcp's client, under both encodings; a handler
//! killed mid-session is respawned; secrets the client sends reach no log.

mod common;

use common::mcp_cases::{self, CLIENT_BEARER, CLIENT_KEY};
use host_emulator::{EmulatorOptions, Encoding, RunningEmulator};

async fn start(
    encoding: Encoding,
    extra_env: Vec<(String, String)>,
) -> (RunningEmulator, tempfile::TempDir) {
    let app = tempfile::tempdir().expect("tempdir");
    mcp_cases::lay_out_app(app.path());
    let mut opts = EmulatorOptions::new(app.path());
    opts.encoding = encoding;
    opts.key = Some(CLIENT_KEY.to_owned());
    opts.extra_env = extra_env;
    let emulator = RunningEmulator::start(opts)
        .await
        .expect("emulator starts the handler");
    (emulator, app)
}

#[tokio::test]
async fn every_case_under_double_encoding() {
    let (emu, _app) = start(Encoding::Double, Vec::new()).await;
    let client = mcp_cases::connect(&emu.mcp_url(), Some(CLIENT_KEY)).await;
    mcp_cases::assert_listed(&mcp_cases::listed_tools(&client).await);
    mcp_cases::assert_expected(&mcp_cases::run_all(&client, "double").await);
    // The -32602 cases never reached the handler: the host answers them itself.
    assert!(!emu.invoked_functions().iter().any(|f| f == "no_such_tool"));
    emu.shutdown().await;
}

#[tokio::test]
async fn every_case_under_single_encoding() {
    let (emu, _app) = start(Encoding::Single, Vec::new()).await;
    let client = mcp_cases::connect(&emu.mcp_url(), Some(CLIENT_KEY)).await;
    mcp_cases::assert_expected(&mcp_cases::run_all(&client, "single").await);
    emu.shutdown().await;
}

#[tokio::test]
async fn a_killed_handler_is_respawned_and_serves_again() {
    let (emu, _app) = start(Encoding::Double, Vec::new()).await;
    let client = mcp_cases::connect(&emu.mcp_url(), Some(CLIENT_KEY)).await;
    assert_eq!(
        mcp_cases::call(&client, "hello_mcp", None).await["isError"],
        false
    );
    emu.kill_handler().await;
    // The call that finds the handler gone gets the host's generic error…
    let during = mcp_cases::call(&client, "hello_mcp", None).await;
    if during["isError"] == true {
        assert_eq!(during["text"][0], "An error occurred invoking 'hello_mcp'.");
    }
    // …and the next one is served by a fresh process.
    let after = mcp_cases::call(&client, "hello_mcp", None).await;
    assert_eq!(after["text"][0], "Hello I am MCPTool!", "{after}");
    assert!(emu.handler_starts() >= 2);
    emu.shutdown().await;
}

#[tokio::test]
async fn client_secrets_never_reach_the_handler_output_at_trace() {
    let env = vec![("RUST_LOG".to_owned(), "trace".to_owned())];
    let (emu, _app) = start(Encoding::Double, env).await;
    let client = mcp_cases::connect(&emu.mcp_url(), Some(CLIENT_KEY)).await;
    mcp_cases::run_all(&client, "leak").await;
    // The secrets did travel to the handler, inside every tool context…
    let sent = serde_json::to_string(&emu.invocations()).expect("json");
    assert!(sent.contains(CLIENT_KEY) && sent.contains(CLIENT_BEARER));
    // …and appear in nothing it wrote or returned as logs.
    let output = emu.handler_output();
    assert!(
        output.contains("TRACE") || output.contains("DEBUG"),
        "trace logging must be on:\n{output}"
    );
    for secret in [CLIENT_KEY, CLIENT_BEARER] {
        assert!(
            !output.contains(secret),
            "{secret} leaked into the handler output"
        );
        assert!(
            !emu.logs().iter().any(|l| l.contains(secret)),
            "{secret} leaked into Logs"
        );
    }
    emu.shutdown().await;
}
