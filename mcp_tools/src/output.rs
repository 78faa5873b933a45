//! What a tool returns.

use rmcp::model::{CallToolResult, ContentBlock};
use serde::Serialize;
use serde_json::Value;

use crate::ToolError;

/// A successful call: content blocks for the model, optional structured content (only for
/// tools with an output schema), and bytes for the tool's output blob bindings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ToolOutput {
    pub content: Vec<ContentBlock>,
    pub structured: Option<Value>,
    pub blobs: Vec<(&'static str, Vec<u8>)>,
}

impl ToolOutput {
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            content: vec![ContentBlock::text(text)],
            ..Self::default()
        }
    }

    pub fn content(content: Vec<ContentBlock>) -> Self {
        Self {
            content,
            ..Self::default()
        }
    }

    /// Structured content, plus its JSON text as a content block for clients that predate
    /// `structuredContent` (the MCP specification asks for both).
    pub fn structured<T: Serialize>(value: &T) -> Result<Self, ToolError> {
        let value = serde_json::to_value(value)
            .map_err(|e| ToolError::Internal(format!("serializing structured output: {e}")))?;
        Ok(Self::structured_value(value))
    }

    pub fn structured_value(value: Value) -> Self {
        Self {
            content: vec![ContentBlock::text(value.to_string())],
            structured: Some(value),
            blobs: Vec::new(),
        }
    }

    /// Bytes to write to the output binding `binding`.
    pub fn with_blob(mut self, binding: &'static str, bytes: Vec<u8>) -> Self {
        self.blobs.push((binding, bytes));
        self
    }

    /// The MCP result. Never empty: the Functions host fails an invocation whose result has
    /// no content, and a model gains nothing from an empty answer.
    pub fn into_call_tool_result(self) -> (CallToolResult, Vec<(&'static str, Vec<u8>)>) {
        let mut content = self.content;
        if content.is_empty() {
            content.push(ContentBlock::text("(the tool returned no content)"));
        }
        let mut result = CallToolResult::success(content);
        result.structured_content = self.structured;
        (result, self.blobs)
    }
}
