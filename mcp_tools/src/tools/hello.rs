//! `hello_mcp`: the seed template's smoke-test tool.

use rmcp::model::ToolAnnotations;

use crate::tool::NoArguments;
use crate::{ToolContext, ToolError, ToolOutput, TypedTool};

pub struct HelloMcp;

impl TypedTool for HelloMcp {
    type Input = NoArguments;
    type Output = ToolOutput;
    const NAME: &'static str = "hello_mcp";
    const DESCRIPTION: &'static str = "Hello world.";

    fn annotations() -> ToolAnnotations {
        ToolAnnotations::with_title("Hello")
            .read_only(true)
            .idempotent(true)
            .open_world(false)
    }

    async fn call(&self, _: NoArguments, _: ToolContext) -> Result<ToolOutput, ToolError> {
        Ok(ToolOutput::text("Hello I am MCPTool!"))
    }
}
