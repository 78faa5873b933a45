//! Tools generated from an internal API's OpenAPI document and a reviewed selection file.
//!
//! - [`document`]: the spec (3.0/3.1, JSON or YAML) and its local references.
//! - [`selection`]: `tools.toml`: which operations become tools, names, descriptions.
//! - [`schema`]: OpenAPI schemas as 2020-12 tool schemas (refs, recursion, nullable, …).
//! - [`operation`]: one operation's tool spec, and its arguments as a request.
//!
//! [`OpenApiTool`] implements [`crate::Tool`]; [`tools`] builds every selected tool of one
//! API, failing at registry build (so in a test) on anything the rules refuse.

pub mod document;
pub mod operation;
pub mod schema;
pub mod selection;

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::Arc;

use jsonschema::Validator;

use crate::downstream::ApiHandle;
use crate::downstream::output::{OutputShape, to_tool_output};
use crate::tool::ToolFuture;
use crate::{JsonObject, Tool, ToolContext, ToolSpec};

pub use document::{Document, OpenApiError};
pub use operation::Operation;
pub use selection::Selection;

/// A tool that calls one operation of a downstream API.
pub struct OpenApiTool {
    spec: ToolSpec,
    operation: Operation,
    output_validator: Option<Validator>,
    api: ApiHandle,
}

impl OpenApiTool {
    pub fn operation(&self) -> &Operation {
        &self.operation
    }
}

impl Tool for OpenApiTool {
    fn spec(&self) -> &ToolSpec {
        &self.spec
    }

    fn call(&self, arguments: JsonObject, ctx: ToolContext) -> ToolFuture<'_> {
        Box::pin(async move {
            let client = self.api.client()?;
            let request = self.operation.request(&arguments)?;
            let response = client.send(&request, &ctx).await?;
            let shape = OutputShape {
                output_schema: self.output_validator.as_ref(),
                wrap_result: self.operation.wrap_result,
                narrowing_argument: self.operation.narrowing_argument.as_deref(),
            };
            to_tool_output(self.api.name(), response, &shape)
        })
    }
}

/// Every tool `selection` picks from `doc`, calling through `api`.
pub fn tools(
    doc: &Document,
    selection: &Selection,
    api: &ApiHandle,
) -> Result<Vec<OpenApiTool>, OpenApiError> {
    let mut tools = Vec::with_capacity(selection.tools.len());
    let mut names = HashSet::new();
    for selected in &selection.tools {
        let (method, path) = locate(doc, &selected.operation)?;
        let operation = Operation::build(doc, &method, &path, selected)?;
        if !crate::registry::valid_tool_name(&operation.name) {
            return Err(OpenApiError::new(format!(
                "tool name `{}` (for {}) must match ^[A-Za-z0-9_-]{{1,64}}$",
                operation.name, selected.operation
            )));
        }
        if !names.insert(operation.name.to_ascii_lowercase()) {
            return Err(OpenApiError::new(format!(
                "tool name `{}` is used twice (names are compared case-insensitively)",
                operation.name
            )));
        }
        let output_validator = match &operation.output_schema {
            Some(schema) => Some(
                jsonschema::options()
                    .with_draft(jsonschema::Draft::Draft202012)
                    .build(&serde_json::Value::Object(schema.clone()))
                    .map_err(|e| {
                        OpenApiError::new(format!("tool `{}`: output schema: {e}", operation.name))
                    })?,
            ),
            None => None,
        };
        let spec = ToolSpec {
            name: Cow::Owned(operation.name.clone()),
            title: operation.title.clone(),
            description: Cow::Owned(operation.description.clone()),
            input_schema: Arc::new(operation.input_schema.clone()),
            output_schema: operation.output_schema.clone().map(Arc::new),
            annotations: operation.annotations.clone(),
            bindings: Vec::new(),
        };
        tools.push(OpenApiTool {
            spec,
            operation,
            output_validator,
            api: api.clone(),
        });
    }
    Ok(tools)
}

/// `listOrders` or `GET /orders` → the operation's method and path.
fn locate(doc: &Document, operation: &str) -> Result<(String, String), OpenApiError> {
    const METHODS: &[&str] = &[
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];
    let paths = doc.root()["paths"].as_object().into_iter().flatten();
    if let Some((method, path)) = selection::method_and_path(operation) {
        let found = doc.root()["paths"]
            .get(path)
            .and_then(|item| doc.resolve(item).ok())
            .is_some_and(|item| item.get(method.as_str()).is_some());
        return if found && METHODS.contains(&method.as_str()) {
            Ok((method, path.to_owned()))
        } else {
            Err(OpenApiError::new(format!(
                "operation `{operation}` is not in the document"
            )))
        };
    }
    let mut found = Vec::new();
    for (path, item) in paths {
        let item = doc.resolve(item)?;
        for method in METHODS {
            if item[*method]["operationId"].as_str() == Some(operation) {
                found.push((method.to_string(), path.clone()));
            }
        }
    }
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(OpenApiError::new(format!(
            "no operation has operationId `{operation}`"
        ))),
        _ => Err(OpenApiError::new(format!(
            "operationId `{operation}` is used more than once"
        ))),
    }
}
