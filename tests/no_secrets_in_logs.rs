//! With every target at TRACE, the caller's `x-functions-key` and `Authorization` (which the
//! host forwards inside the tool context) appear nowhere in what the handler logs.

mod common;

use common::captured::Captured;
use common::{builtin_app, fixture, post};

#[tokio::test]
async fn secrets_from_the_context_never_reach_the_log() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(captured.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let app = builtin_app();
    for (function, name) in [
        ("save_snippet", "save_double"),
        ("save_snippet", "save_wrong_type"),
        ("get_snippet", "get_found_double"),
        ("get_snippet", "get_traversal"),
        ("hello_mcp", "hello_single"),
        ("nope", "hello_double"),
    ] {
        post(&app, function, fixture(name)).await;
    }

    let log = captured.text();
    assert!(
        log.contains("tool call"),
        "the capture must see the handler's events:\n{log}"
    );
    for secret in ["fixture-functions-key-0123456789", "fixture-token-abcdef"] {
        assert!(!log.contains(secret), "{secret} leaked into:\n{log}");
    }
}
