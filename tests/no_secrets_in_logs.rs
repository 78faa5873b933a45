//! With every target at TRACE, the caller's `x-functions-key` and `Authorization` (which the
//! host forwards inside the tool context) appear nowhere in what the handler logs.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::{builtin_app, fixture, post};
use tracing_subscriber::fmt::MakeWriter;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("poisoned"))?
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

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

    let log = String::from_utf8(captured.0.lock().expect("lock").clone()).expect("utf8");
    assert!(
        log.contains("tool call"),
        "the capture must see the handler's events:\n{log}"
    );
    for secret in ["fixture-functions-key-0123456789", "fixture-token-abcdef"] {
        assert!(!log.contains(secret), "{secret} leaked into:\n{log}");
    }
}
