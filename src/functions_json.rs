//! The registry as Functions app content: one folder per tool holding a function.json with
//! an `mcpToolTrigger` (contract §2–§3) and the tool's blob bindings.

use std::io;
use std::path::{Path, PathBuf};

use mcp_tools::{BindingDirection, Registry, ToolSpec};
use serde_json::{Value, json};

use crate::invocation::TRIGGER_BINDING;

/// The storage connection the blob bindings use (the app's own storage account).
const BLOB_CONNECTION: &str = "AzureWebJobsStorage";

/// The function.json of one tool. Schema-valued fields are JSON *strings*, as the host
/// reads them.
pub fn function_json(spec: &ToolSpec) -> Value {
    let mut trigger = json!({
        "type": "mcpToolTrigger",
        "direction": "in",
        "name": TRIGGER_BINDING,
        "toolName": spec.name,
        "description": spec.description,
        // Older extensions (< 1.2) only read the flat form.
        "toolProperties": Value::Array(tool_properties(spec)).to_string(),
        "useWorkerInputSchema": true,
        "inputSchema": Value::Object((*spec.input_schema).clone()).to_string(),
        "useResultSchema": true,
    });
    if let Some(output) = &spec.output_schema {
        trigger["outputSchema"] = Value::String(Value::Object((**output).clone()).to_string());
    }
    let annotations = spec.annotations_json();
    if !annotations.is_empty() {
        trigger["metadata"] = Value::String(json!({ "annotations": annotations }).to_string());
    }
    let mut bindings = vec![trigger];
    for binding in &spec.bindings {
        let path = binding.map_placeholders(|arg| format!("{{mcptoolargs.{arg}}}"));
        let direction = match binding.direction {
            BindingDirection::In => "in",
            BindingDirection::Out => "out",
        };
        bindings.push(json!({
            "type": "blob",
            "direction": direction,
            "name": binding.name,
            "path": path,
            "connection": BLOB_CONNECTION,
            "dataType": "string",
        }));
    }
    json!({ "bindings": bindings })
}

/// The flat `toolProperties` form of the input schema's top-level properties.
fn tool_properties(spec: &ToolSpec) -> Vec<Value> {
    let required: Vec<&str> = mcp_tools::schema::required_names(&spec.input_schema).collect();
    let Some(properties) = spec
        .input_schema
        .get("properties")
        .and_then(Value::as_object)
    else {
        return Vec::new();
    };
    properties
        .iter()
        .map(|(name, schema)| {
            let (ty, is_array, items) = match primary_type(schema) {
                "array" => {
                    let items = schema.get("items").unwrap_or(&Value::Null);
                    (flat_type(primary_type(items)), true, items)
                }
                other => (flat_type(other), false, schema),
            };
            let enum_values: Vec<Value> = items
                .get("enum")
                .and_then(Value::as_array)
                .map(|values| values.iter().filter(|v| v.is_string()).cloned().collect())
                .unwrap_or_default();
            json!({
                "propertyName": name,
                "propertyType": ty,
                "description": schema.get("description").and_then(Value::as_str).unwrap_or_default(),
                "isRequired": required.contains(&name.as_str()),
                "isArray": is_array,
                "enumValues": enum_values,
            })
        })
        .collect()
}

/// The first non-null type a property schema names (`["string", "null"]` → `string`);
/// an enum of strings without a type counts as a string.
fn primary_type(schema: &Value) -> &str {
    match schema.get("type") {
        Some(Value::String(t)) => t,
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("object"),
        _ if schema.get("enum").is_some() => "string",
        _ => "object",
    }
}

/// The host's `propertyType` knows string, number, integer, boolean and object only.
fn flat_type(json_type: &str) -> &'static str {
    match json_type {
        "string" => "string",
        "number" => "number",
        "integer" => "integer",
        "boolean" => "boolean",
        _ => "object",
    }
}

/// Writes `<out>/<tool>/function.json` for every tool, and removes nothing else.
pub fn write_all(registry: &Registry, out: &Path) -> io::Result<Vec<PathBuf>> {
    let mut written = Vec::with_capacity(registry.specs().len());
    for spec in registry.specs() {
        let dir = out.join(spec.name.as_ref());
        std::fs::create_dir_all(&dir)?;
        let path = dir.join("function.json");
        let mut text =
            serde_json::to_string_pretty(&function_json(spec)).map_err(io::Error::other)?;
        text.push('\n');
        std::fs::write(&path, text)?;
        written.push(path);
    }
    Ok(written)
}
