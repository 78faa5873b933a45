//! What a tool is.
//!
//! [`ToolSpec`] is everything a front door advertises; [`Tool`] is the dynamic interface the
//! registry calls (OpenAPI-generated tools implement it directly); [`TypedTool`] is how a
//! hand-written tool is written: typed input, schemars-derived schemas, typed output.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use rmcp::model::{JsonObject, ToolAnnotations};
use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::schema::{SchemaError, schema_for};
use crate::validate::ArgumentValidator;
use crate::{BlobBinding, ToolContext, ToolError, ToolOutput};

/// Everything a front door needs to advertise a tool.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolSpec {
    pub name: Cow<'static, str>,
    pub title: Option<String>,
    pub description: Cow<'static, str>,
    pub input_schema: Arc<JsonObject>,
    pub output_schema: Option<Arc<JsonObject>>,
    pub annotations: ToolAnnotations,
    pub bindings: Vec<BlobBinding>,
}

impl ToolSpec {
    /// The MCP `Tool` as `tools/list` shows it.
    pub fn to_mcp_tool(&self) -> rmcp::model::Tool {
        let mut tool = rmcp::model::Tool::new_with_raw(
            self.name.clone(),
            Some(self.description.clone()),
            self.input_schema.clone(),
        );
        tool.title = self.title.clone();
        tool.output_schema = self.output_schema.clone();
        if self.annotations != ToolAnnotations::default() {
            tool.annotations = Some(self.annotations.clone());
        }
        tool
    }

    /// The annotations as a JSON object (function.json `metadata`, telemetry).
    pub fn annotations_json(&self) -> JsonObject {
        match serde_json::to_value(&self.annotations) {
            Ok(Value::Object(map)) => map,
            _ => JsonObject::new(),
        }
    }
}

pub type ToolFuture<'a> = Pin<Box<dyn Future<Output = Result<ToolOutput, ToolError>> + Send + 'a>>;

/// The interface the registry calls. `arguments` have already been validated against
/// `spec().input_schema`.
pub trait Tool: Send + Sync + 'static {
    fn spec(&self) -> &ToolSpec;
    fn call(&self, arguments: JsonObject, ctx: ToolContext) -> ToolFuture<'_>;
}

/// A hand-written tool. Field doc comments of `Input` become the argument descriptions.
///
/// ```ignore
/// struct Hello;
/// impl TypedTool for Hello {
///     type Input = NoArguments;
///     type Output = ToolOutput;
///     const NAME: &'static str = "hello_mcp";
///     const DESCRIPTION: &'static str = "Hello world.";
///     async fn call(&self, _: NoArguments, _: ToolContext) -> Result<ToolOutput, ToolError> {
///         Ok(ToolOutput::text("Hello I am MCPTool!"))
///     }
/// }
/// ```
pub trait TypedTool: Send + Sync + 'static {
    type Input: DeserializeOwned + JsonSchema + Send;
    type Output: TypedOutput;
    const NAME: &'static str;
    const DESCRIPTION: &'static str;

    fn annotations() -> ToolAnnotations {
        ToolAnnotations::new()
    }

    fn bindings() -> Vec<BlobBinding> {
        Vec::new()
    }

    fn call(
        &self,
        input: Self::Input,
        ctx: ToolContext,
    ) -> impl Future<Output = Result<Self::Output, ToolError>> + Send;
}

/// What a typed tool may return: plain [`ToolOutput`] (no output schema) or
/// [`Structured<T>`] (output schema from `T`, structured content from the value).
pub trait TypedOutput: Send {
    fn output_schema() -> Option<Result<JsonObject, SchemaError>>;
    fn into_tool_output(self) -> Result<ToolOutput, ToolError>;
}

impl TypedOutput for ToolOutput {
    fn output_schema() -> Option<Result<JsonObject, SchemaError>> {
        None
    }

    fn into_tool_output(self) -> Result<ToolOutput, ToolError> {
        Ok(self)
    }
}

/// A typed result: advertised as the tool's `outputSchema`, returned as `structuredContent`.
pub struct Structured<T> {
    pub value: T,
    pub blobs: Vec<(&'static str, Vec<u8>)>,
}

impl<T> Structured<T> {
    pub fn new(value: T) -> Self {
        Self {
            value,
            blobs: Vec::new(),
        }
    }

    pub fn with_blob(mut self, binding: &'static str, bytes: Vec<u8>) -> Self {
        self.blobs.push((binding, bytes));
        self
    }
}

impl<T: Serialize + JsonSchema + Send> TypedOutput for Structured<T> {
    fn output_schema() -> Option<Result<JsonObject, SchemaError>> {
        Some(schema_for::<T>())
    }

    fn into_tool_output(self) -> Result<ToolOutput, ToolError> {
        let mut out = ToolOutput::structured(&self.value)?;
        out.blobs = self.blobs;
        Ok(out)
    }
}

/// The input of a tool that takes no arguments.
#[derive(Debug, Default, serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoArguments {}

/// Adapts a [`TypedTool`] to [`Tool`].
pub(crate) struct Typed<T> {
    tool: T,
    spec: ToolSpec,
}

impl<T: TypedTool> Typed<T> {
    pub(crate) fn new(tool: T) -> Result<Self, SchemaError> {
        let input_schema = schema_for::<T::Input>()?;
        // Fail at registration, not on the first call, if the schema does not compile.
        ArgumentValidator::new(&input_schema)?;
        let output_schema = T::Output::output_schema().transpose()?;
        Ok(Self {
            tool,
            spec: ToolSpec {
                name: Cow::Borrowed(T::NAME),
                title: None,
                description: Cow::Borrowed(T::DESCRIPTION),
                input_schema: Arc::new(input_schema),
                output_schema: output_schema.map(Arc::new),
                annotations: T::annotations(),
                bindings: T::bindings(),
            },
        })
    }
}

impl<T: TypedTool> Tool for Typed<T> {
    fn spec(&self) -> &ToolSpec {
        &self.spec
    }

    fn call(&self, arguments: JsonObject, ctx: ToolContext) -> ToolFuture<'_> {
        Box::pin(async move {
            let input: T::Input = serde_path_to_error::deserialize(Value::Object(arguments))
                .map_err(|e| {
                    let path = e.path().to_string();
                    let argument = if path == "." { String::new() } else { path };
                    // serde quotes the offending value; keep a huge one out of the message.
                    let message = crate::validate::truncate(&e.into_inner().to_string(), 200);
                    if argument.is_empty() {
                        ToolError::InvalidArguments(message)
                    } else {
                        ToolError::InvalidArgument { argument, message }
                    }
                })?;
            self.tool.call(input, ctx).await?.into_tool_output()
        })
    }
}
