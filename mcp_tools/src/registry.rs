//! The registry: every tool once, and the call pipeline both front doors share.

use std::collections::HashMap;
use std::sync::Arc;

use rmcp::model::CallToolResult;
use serde_json::Value;
use tracing::Instrument as _;

use crate::schema::{SchemaError, object_root};
use crate::tool::Typed;
use crate::validate::ArgumentValidator;
use crate::{JsonObject, Tool, ToolContext, ToolError, ToolSpec, TypedTool};

/// How a call ended, for logs and telemetry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    ToolError,
    InvalidArguments,
    InternalError,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::ToolError => "tool_error",
            Self::InvalidArguments => "invalid_arguments",
            Self::InternalError => "internal_error",
        }
    }
}

/// The result of one call, ready for a front door to encode.
#[derive(Debug, Clone, PartialEq)]
pub struct CallOutcome {
    pub result: CallToolResult,
    /// Bytes for the tool's output bindings; empty when the call failed.
    pub blobs: Vec<(&'static str, Vec<u8>)>,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    #[error(
        "tool name `{0}` is invalid: use 1 to 64 letters, digits, '_' or '-' (MCP and the Functions host both require it)"
    )]
    InvalidName(String),
    #[error(
        "tool name `{0}` is used twice (names are compared case-insensitively, as the host does)"
    )]
    DuplicateName(String),
    #[error("tool `{tool}`: {source}")]
    Schema { tool: String, source: SchemaError },
    #[error(
        "tool `{tool}`: binding `{binding}` uses argument `{argument}`, which is not a required string argument"
    )]
    Binding {
        tool: String,
        binding: String,
        argument: String,
    },
}

/// One registered tool with its compiled argument validator.
pub struct RegisteredTool {
    tool: Arc<dyn Tool>,
    validator: ArgumentValidator,
}

impl RegisteredTool {
    pub fn spec(&self) -> &ToolSpec {
        self.tool.spec()
    }

    /// Checks arguments against the input schema without calling the tool (a front door
    /// that must locate blobs from the arguments does this first).
    pub fn validate(&self, arguments: &JsonObject) -> Result<(), ToolError> {
        self.validator.validate(&Value::Object(arguments.clone()))
    }

    /// Required arguments absent from `arguments` (JSON-RPC -32602 in the self-hosted front).
    pub fn missing_required<'a>(&'a self, arguments: &JsonObject) -> Vec<&'a str> {
        self.validator.missing_required(arguments)
    }
}

#[derive(Default)]
pub struct Registry {
    tools: Vec<RegisteredTool>,
    by_lowercase_name: HashMap<String, usize>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.tools.iter().map(|t| &t.spec().name))
            .finish()
    }
}

impl Registry {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn register_typed<T: TypedTool>(&mut self, tool: T) -> Result<(), RegistryError> {
        let typed = Typed::new(tool).map_err(|source| RegistryError::Schema {
            tool: T::NAME.to_owned(),
            source,
        })?;
        self.register(typed)
    }

    pub fn register(&mut self, tool: impl Tool) -> Result<(), RegistryError> {
        let spec = tool.spec();
        let name = spec.name.to_string();
        if !valid_tool_name(&name) {
            return Err(RegistryError::InvalidName(name));
        }
        let key = name.to_ascii_lowercase();
        if self.by_lowercase_name.contains_key(&key) {
            return Err(RegistryError::DuplicateName(name));
        }
        let schema_error = |source| RegistryError::Schema {
            tool: name.clone(),
            source,
        };
        object_root((*spec.input_schema).clone()).map_err(schema_error)?;
        if let Some(out) = &spec.output_schema {
            object_root((**out).clone()).map_err(schema_error)?;
        }
        let validator = ArgumentValidator::new(&spec.input_schema).map_err(schema_error)?;
        check_bindings(spec)?;
        self.by_lowercase_name.insert(key, self.tools.len());
        self.tools.push(RegisteredTool {
            tool: Arc::new(tool),
            validator,
        });
        Ok(())
    }

    /// Lookup is case-insensitive, like the host's.
    pub fn get(&self, name: &str) -> Option<&RegisteredTool> {
        let index = if name.bytes().any(|b| b.is_ascii_uppercase()) {
            self.by_lowercase_name.get(&name.to_ascii_lowercase())
        } else {
            self.by_lowercase_name.get(name)
        };
        index.map(|&i| &self.tools[i])
    }

    pub fn tools(&self) -> impl ExactSizeIterator<Item = &RegisteredTool> {
        self.tools.iter()
    }

    pub fn specs(&self) -> impl ExactSizeIterator<Item = &ToolSpec> {
        self.tools.iter().map(RegisteredTool::spec)
    }

    /// Validate → call under the context's deadline → one mapping of every failure to an
    /// `isError` result. `arguments: None` means the client sent none.
    pub async fn call(
        &self,
        tool: &RegisteredTool,
        arguments: Option<Value>,
        ctx: ToolContext,
    ) -> CallOutcome {
        let arguments = arguments.unwrap_or_else(|| Value::Object(JsonObject::new()));
        let result = match tool.validator.validate(&arguments) {
            Err(e) => Err(e),
            Ok(()) => match arguments {
                Value::Object(map) => run(tool.tool.clone(), map, ctx).await,
                // The schema has an object root, so validation has already refused this.
                _ => Err(ToolError::InvalidArguments(
                    "arguments must be a JSON object".into(),
                )),
            },
        };
        match result {
            Ok(output) => {
                let (result, blobs) = output.into_call_tool_result();
                CallOutcome {
                    result,
                    blobs,
                    outcome: Outcome::Ok,
                }
            }
            Err(error) => {
                let outcome = match &error {
                    e if e.is_invalid_arguments() => Outcome::InvalidArguments,
                    ToolError::Internal(detail) => {
                        tracing::error!(tool = %tool.spec().name, %detail, "tool failed internally");
                        Outcome::InternalError
                    }
                    _ => Outcome::ToolError,
                };
                CallOutcome {
                    result: error.to_call_tool_result(),
                    blobs: Vec::new(),
                    outcome,
                }
            }
        }
    }
}

/// Runs the tool on its own task so that a panic in it becomes an internal error rather than
/// a dropped connection, and so that the deadline is enforced whatever the tool does.
async fn run(
    tool: Arc<dyn Tool>,
    arguments: JsonObject,
    ctx: ToolContext,
) -> Result<crate::ToolOutput, ToolError> {
    let deadline = ctx.deadline();
    let budget = ctx.remaining();
    // In the caller's span, so the tool's downstream calls nest under the call's trace.
    let task = tokio::spawn(
        async move { tool.call(arguments, ctx).await }.instrument(tracing::Span::current()),
    );
    let abort = task.abort_handle();
    match tokio::time::timeout_at(deadline.into(), task).await {
        Ok(Ok(result)) => result,
        Ok(Err(join)) if join.is_panic() => {
            Err(ToolError::Internal(format!("tool panicked: {join}")))
        }
        Ok(Err(join)) => Err(ToolError::Internal(format!("tool task ended: {join}"))),
        Err(_) => {
            abort.abort();
            Err(ToolError::DeadlineExceeded(budget))
        }
    }
}

/// `^[A-Za-z0-9_-]{1,64}$`: the MCP tool-name rule, and safe as a Functions folder name.
pub fn valid_tool_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// A binding path may only use required string arguments: the host resolves the path before
/// the handler can refuse anything, and the self-hosted front needs every placeholder filled.
fn check_bindings(spec: &ToolSpec) -> Result<(), RegistryError> {
    let required: Vec<&str> = crate::schema::required_names(&spec.input_schema).collect();
    for binding in &spec.bindings {
        for argument in binding.template_arguments() {
            let is_string = spec
                .input_schema
                .get("properties")
                .and_then(|p| p.get(argument))
                .and_then(|p| p.get("type"))
                .and_then(Value::as_str)
                == Some("string");
            if !required.contains(&argument) || !is_string {
                return Err(RegistryError::Binding {
                    tool: spec.name.to_string(),
                    binding: binding.name.to_owned(),
                    argument: argument.to_owned(),
                });
            }
        }
    }
    Ok(())
}
