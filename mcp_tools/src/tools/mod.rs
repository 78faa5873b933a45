//! The hand-written tools, one file each.
//!
//! To add a tool: write `my_tool.rs` with a type that implements [`crate::TypedTool`], add
//! `mod my_tool;` below and one `register_typed` line in [`crate::catalog::build_with`].

pub mod conformance;
mod hello;
mod order_with_stock;
mod snippets;

pub use conformance::register_conformance_tools;
pub use hello::HelloMcp;
pub use order_with_stock::OrderWithStock;
pub use snippets::{GetSnippet, SNIPPET_PATH, SaveSnippet};

use crate::Registry;
use crate::catalog::{BuildError, build_registry};
use crate::downstream::DownstreamConfig;

/// The registry of every tool with no downstream API configured: what function.json
/// generation and most tests need. Serving uses [`crate::build_registry`] with the settings.
pub fn builtin() -> Result<Registry, BuildError> {
    build_registry(&DownstreamConfig::default())
}
