//! The hand-written tools, one file each.
//!
//! To add a tool: write `my_tool.rs` with a type that implements [`crate::TypedTool`], add
//! `mod my_tool;` below and one `register_typed` line in [`builtin`].

mod hello;
mod snippets;

pub use hello::HelloMcp;
pub use snippets::{GetSnippet, SNIPPET_PATH, SaveSnippet};

use crate::{Registry, RegistryError};

/// The registry of every built-in tool.
pub fn builtin() -> Result<Registry, RegistryError> {
    let mut registry = Registry::new();
    registry.register_typed(HelloMcp)?;
    registry.register_typed(GetSnippet)?;
    registry.register_typed(SaveSnippet)?;
    Ok(registry)
}
