//! `handler`: the executable the Functions host starts, and its two front doors onto the
//! tools of `mcp_tools`.
//!
//! - [`config`]: the command line and the settings, read and checked once at start-up.
//! - [`invocation`]: the Functions custom-handler wire format: decode `{Data, Metadata}` into a
//!   tool call, encode a call's outcome as `{Outputs, ReturnValue}` (contract §4–§5).
//! - [`serve_functions`]: the axum routes of the custom-handler protocol (`GET /`,
//!   `POST /{function}`) and the one mapping of invocation failures to HTTP answers.
//! - [`functions_json`]: the registry as function folders (`<tool>/function.json`).
//! - [`serve_mcp`]: the self-hosted front door, an rmcp streamable-HTTP server over the same
//!   registry, with the host's key check and [`local_blobs`] standing in for blob bindings.
//! - [`server_identity`]: the server's name, version and instructions (as in host.json).
//! - [`telemetry`]: logging to stdout and the export to Application Insights: one request
//!   span per tool call, the dependency spans `mcp_tools` opens, metrics, the allow-listed
//!   client name, and the flush on shutdown.
//!
//! `main.rs` is thin: parse the command line, set up telemetry, run the chosen mode.

pub mod config;
pub mod functions_json;
pub mod invocation;
pub mod local_blobs;
pub mod serve_functions;
pub mod serve_mcp;
pub mod server_identity;
pub mod telemetry;
