//! Logging set-up: `tracing` to stdout, which the Functions host captures into its own logs.
//!
//! Nothing logged anywhere in the handler carries header maps or argument values: the
//! inbound request holds the caller's `x-functions-key` and `Authorization`.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. `RUST_LOG` overrides the default `info`.
pub fn init() {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,rmcp=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(false)
        .try_init();
}
