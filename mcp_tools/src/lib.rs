//! The tools, and the registry that both front doors of `handler` serve.
//!
//! Nothing here knows about Azure Functions, HTTP servers or MCP transports: a front door
//! decodes its wire format into a tool name and JSON arguments, calls [`Registry::call`], and
//! encodes the [`CallOutcome`] it gets back.
//!
//! - [`tool`]: what a tool is: its [`ToolSpec`] (schemas, annotations, bindings), the dynamic
//!   [`Tool`] trait, and [`TypedTool`] for hand-written tools with schemars-derived schemas.
//! - [`schema`]: JSON Schema generation and the shape rules every schema must follow.
//! - [`validate`]: argument validation against the input schema, with messages that name the
//!   offending argument.
//! - [`output`]: [`ToolOutput`], what a tool returns (content, structured content, blobs).
//! - [`error`]: [`ToolError`] and the one mapping from it to the `isError` result the model reads.
//! - [`bindings`]: abstract blob bindings (`snippets/{snippetname}.json`) and path templates.
//! - [`context`]: [`ToolContext`], what a tool sees of its call: deadline, input blobs, progress,
//!   trace context.
//! - [`registry`]: [`Registry`], lookup by name and the call pipeline
//!   (validate → call under the deadline → map errors).
//! - [`tools`]: the hand-written tools, one file each, and [`tools::builtin`].
//! - [`downstream`]: the shared HTTP client for internal APIs: per-API settings
//!   (`DOWNSTREAM__<API>__*`), credentials (managed identity, API key, client credentials —
//!   never the caller's), deadlines, retries, bulkheads, size caps.
//! - [`openapi`]: tools generated from an OpenAPI document and a reviewed selection file.
//! - [`apis`]: the embedded OpenAPI documents and selections (`mcp_tools/apis/<api>/`).
//! - [`catalog`]: [`build_registry`]: every tool, wired to its downstream clients.
//! - [`secret`]: [`Secret`], a string that never prints.

pub mod apis;
pub mod bindings;
pub mod catalog;
pub mod context;
pub mod downstream;
pub mod error;
pub mod openapi;
pub mod output;
pub mod registry;
pub mod schema;
pub mod secret;
pub mod tool;
pub mod tools;
pub mod validate;

pub use bindings::{BindingDirection, BlobBinding};
pub use catalog::{BuildError, build_registry, downstream_config};
pub use context::{ProgressSink, ToolContext};
pub use error::ToolError;
pub use output::ToolOutput;
pub use registry::{CallOutcome, Outcome, Registry, RegistryError};
pub use secret::Secret;
pub use tool::{Tool, ToolSpec, TypedTool};

/// Re-exported so tool authors and front doors use the same MCP model types.
pub use rmcp::model::{CallToolResult, ContentBlock, JsonObject, ToolAnnotations};
