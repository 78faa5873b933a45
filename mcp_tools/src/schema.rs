//! JSON Schemas for tool inputs and outputs.
//!
//! The Functions host refuses to index a tool whose `inputSchema` or `outputSchema` does not
//! have an object root whose `type` is exactly `"object"` (contract §5), so every schema goes
//! through [`object_root`], which both checks and normalises.

use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde_json::Value;

use crate::JsonObject;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SchemaError(pub String);

/// The schema of `T` as a tool schema: draft 2020-12, local `$defs` kept for recursive
/// types, no root `$schema`/`title` noise, object root enforced.
pub fn schema_for<T: JsonSchema>() -> Result<JsonObject, SchemaError> {
    let schema = SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<T>();
    let Value::Object(mut obj) = schema.to_value() else {
        return Err(SchemaError(format!(
            "the schema of {} is not an object",
            std::any::type_name::<T>()
        )));
    };
    obj.remove("$schema");
    obj.remove("title");
    for value in obj.values_mut() {
        drop_numeric_formats(value);
    }
    object_root(obj)
}

/// schemars names Rust's integer widths in `format` (`uint`, `int32`, `double`…), which JSON
/// Schema does not define: validators warn about them and models gain nothing. The range
/// they imply is already there as `minimum`/`maximum`.
fn drop_numeric_formats(value: &mut Value) {
    match value {
        Value::Object(map) => {
            let numeric = matches!(
                map.get("format").and_then(Value::as_str),
                Some(
                    "int"
                        | "int8"
                        | "int16"
                        | "int32"
                        | "int64"
                        | "int128"
                        | "uint"
                        | "uint8"
                        | "uint16"
                        | "uint32"
                        | "uint64"
                        | "uint128"
                        | "float"
                        | "double"
                )
            );
            if numeric {
                map.remove("format");
            }
            map.values_mut().for_each(drop_numeric_formats);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_numeric_formats),
        _ => {}
    }
}

/// Checks the host's rule for tool schemas and fills in what it insists on:
/// `type: "object"`, `properties` an object, `required` an array (present even when empty,
/// as the host itself writes it).
pub fn object_root(mut schema: JsonObject) -> Result<JsonObject, SchemaError> {
    match schema.get("type") {
        Some(Value::String(t)) if t == "object" => {}
        Some(other) => {
            return Err(SchemaError(format!(
                "the root `type` must be exactly \"object\", not {other}; wrap other results as {{\"result\": …}}"
            )));
        }
        None => return Err(SchemaError("the root has no `type: \"object\"`".into())),
    }
    if schema.contains_key("$ref") {
        return Err(SchemaError("the root must not be a `$ref`".into()));
    }
    match schema
        .entry("properties")
        .or_insert_with(|| Value::Object(JsonObject::new()))
    {
        Value::Object(_) => {}
        _ => return Err(SchemaError("`properties` must be an object".into())),
    }
    match schema
        .entry("required")
        .or_insert_with(|| Value::Array(Vec::new()))
    {
        Value::Array(items) if items.iter().all(Value::is_string) => {}
        _ => return Err(SchemaError("`required` must be an array of names".into())),
    }
    Ok(schema)
}

/// The names listed in a schema's `required`.
pub fn required_names(schema: &JsonObject) -> impl Iterator<Item = &str> {
    schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(schemars::JsonSchema)]
    #[allow(dead_code)]
    struct Args {
        /// The name.
        name: String,
        count: Option<u32>,
    }

    #[test]
    fn derives_an_object_root_with_descriptions() {
        let s = schema_for::<Args>().unwrap_or_default();
        assert_eq!(s["type"], "object");
        assert_eq!(s["properties"]["name"]["description"], "The name.");
        assert_eq!(s["required"], json!(["name"]));
        assert!(!s.contains_key("$schema"));
    }

    #[test]
    fn rust_integer_widths_are_not_formats() {
        #[derive(schemars::JsonSchema)]
        #[allow(dead_code)]
        struct Sized {
            bytes: usize,
            ratio: f32,
            nested: Vec<u8>,
        }
        let s = schema_for::<Sized>().unwrap_or_default();
        let text = Value::Object(s.clone()).to_string();
        assert!(!text.contains("\"format\""), "{text}");
        assert_eq!(s["properties"]["bytes"]["minimum"], 0);
    }

    #[test]
    fn unit_struct_gets_empty_properties_and_required() {
        #[derive(schemars::JsonSchema)]
        struct NoArgs {}
        let s = schema_for::<NoArgs>().unwrap_or_default();
        assert_eq!(s["properties"], json!({}));
        assert_eq!(s["required"], json!([]));
    }

    #[test]
    fn rejects_non_object_roots() {
        for bad in [
            json!({"type": ["object", "null"]}),
            json!({"type": "array"}),
            json!({"$ref": "#/$defs/X", "type": "object"}),
            json!({}),
            json!({"type": "object", "properties": []}),
            json!({"type": "object", "required": "a"}),
        ] {
            let obj = bad.as_object().cloned().unwrap_or_default();
            assert!(object_root(obj).is_err(), "{bad} should be refused");
        }
    }
}
