//! The Functions custom-handler wire format for one tool call (contract §4–§5).
//!
//! Decoding is tolerant because the host's encoding is partly inferred: the trigger context
//! may arrive as a plain object or as a JSON string nested once or twice; the arguments may
//! only be present in `Metadata`; blobs follow the trigger's encoding and a missing blob is
//! `null` (or the text `"null"`). Encoding is strict: always a `call_tool_result` envelope,
//! the only form that can carry `isError` and `structuredContent` (contract §5).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use mcp_tools::{BindingDirection, CallOutcome, CallToolResult, JsonObject, ToolSpec};
use serde_json::{Map, Value};

/// The trigger binding's `name` in every function.json we write. The host delivers the tool
/// context under `Data.<this>`; it must not end in "trigger" (contract §3).
pub const TRIGGER_BINDING: &str = "context";

/// How deep a value may be string-encoded before we stop unwrapping it (the host uses at
/// most two levels; one more is tolerated).
const MAX_ENCODING_DEPTH: usize = 3;

/// One tool call, as far as the wire tells it.
#[derive(Debug, Clone, PartialEq)]
pub struct Invocation {
    /// `None` when the client sent no arguments.
    pub arguments: Option<Value>,
    /// The tool name as the client typed it (informational: dispatch is by URL).
    pub requested_name: Option<String>,
    /// Input bindings that delivered bytes; a missing blob is absent.
    pub input_blobs: Vec<(&'static str, Vec<u8>)>,
    /// How many string layers wrapped the trigger context (0 = a plain object).
    pub context_depth: usize,
    /// Where the arguments came from, for debugging a host that sends something new.
    pub arguments_source: &'static str,
    /// The calling client, from the allow-listed `User-Agent` among the context's transport
    /// headers ([`crate::telemetry::client_name`]). The headers themselves are not kept: they
    /// hold the caller's `x-functions-key` and `Authorization`.
    pub client: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("the body is not JSON: {0}")]
    NotJson(String),
    #[error(
        "the body is not a Functions invocation: expected an object with `Data` and `Metadata`"
    )]
    NotAnInvocation,
    #[error("`Data.{0}` (the tool context) is not a JSON object, nor a JSON string holding one")]
    BadContext(String),
}

/// Decodes a host request body for `tool`.
pub fn decode(body: &[u8], tool: &ToolSpec) -> Result<Invocation, DecodeError> {
    let body: Value =
        serde_json::from_slice(body).map_err(|e| DecodeError::NotJson(e.to_string()))?;
    let Value::Object(body) = body else {
        return Err(DecodeError::NotAnInvocation);
    };
    let data = field(&body, "Data");
    let metadata = field(&body, "Metadata");
    if data.is_none() && metadata.is_none() {
        return Err(DecodeError::NotAnInvocation);
    }
    let data = data.and_then(Value::as_object);
    let metadata = metadata.and_then(Value::as_object);

    let binding_names: Vec<&str> = tool.bindings.iter().map(|b| b.name).collect();
    let context = find_context(data, &binding_names)?;
    let depth = context.as_ref().map_or(0, |(_, depth)| *depth);
    let context = context.map(|(ctx, _)| ctx);

    let client = crate::telemetry::client_name(
        context
            .as_ref()
            .and_then(|c| c.get("transport"))
            .and_then(|t| t.get("properties"))
            .and_then(|p| p.get("headers"))
            .and_then(Value::as_object)
            .and_then(|headers| field(headers, "user-agent"))
            .and_then(Value::as_str),
    );

    let requested_name = context
        .as_ref()
        .and_then(|c| c.get("name"))
        .and_then(Value::as_str)
        .map(str::to_owned);

    let from_context = context
        .as_ref()
        .and_then(|c| c.get("arguments"))
        .filter(|a| !a.is_null())
        .cloned();
    let from_metadata = || {
        metadata
            .and_then(|m| field(m, "arguments"))
            .map(|a| unwrap_to_object(a).map_or_else(|| a.clone(), |(o, _)| Value::Object(o)))
            .filter(|a| !a.is_null())
    };
    let from_strings = || {
        metadata
            .and_then(|m| field(m, "mcptoolargs"))
            .and_then(unwrap_to_object)
            .map(|(args, _)| Value::Object(coerce_string_arguments(args, &tool.input_schema)))
    };
    let (arguments, arguments_source) = if let Some(a) = from_context {
        (Some(a), "context")
    } else if let Some(a) = from_metadata() {
        (Some(a), "metadata.arguments")
    } else if let Some(a) = from_strings() {
        (Some(a), "metadata.mcptoolargs")
    } else {
        (None, "none")
    };

    let input_blobs = tool
        .bindings
        .iter()
        .filter(|b| b.direction == BindingDirection::In)
        .filter_map(|b| {
            let value = data.and_then(|d| field(d, b.name))?;
            decode_blob(value, depth).map(|bytes| (b.name, bytes))
        })
        .collect();

    Ok(Invocation {
        arguments,
        requested_name,
        input_blobs,
        context_depth: depth,
        arguments_source,
        client,
    })
}

/// The host reads response keys case-insensitively; we read request keys the same way.
fn field<'a>(map: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    map.get(name).or_else(|| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

/// The trigger context and how many string layers it was wrapped in: under our trigger name,
/// else (a hand-edited function.json) the one other `Data` entry that looks like a context.
fn find_context(
    data: Option<&Map<String, Value>>,
    binding_names: &[&str],
) -> Result<Option<Unwrapped>, DecodeError> {
    let Some(data) = data else {
        return Ok(None);
    };
    if let Some(value) = field(data, TRIGGER_BINDING) {
        return match unwrap_to_object(value) {
            Some(found) => Ok(Some(found)),
            None if value.is_null() => Ok(None),
            None => Err(DecodeError::BadContext(TRIGGER_BINDING.to_owned())),
        };
    }
    Ok(data
        .iter()
        .filter(|(k, _)| !binding_names.iter().any(|b| k.eq_ignore_ascii_case(b)))
        .filter_map(|(_, v)| unwrap_to_object(v))
        .find(|(obj, _)| {
            obj.contains_key("arguments")
                || obj.contains_key("transport")
                || obj.contains_key("name")
        }))
}

/// An object found inside string layers, and how many layers there were.
type Unwrapped = (Map<String, Value>, usize);

/// Parses JSON strings until an object appears: plain, single- or double-encoded.
fn unwrap_to_object(value: &Value) -> Option<Unwrapped> {
    let mut current = match value {
        Value::Object(map) => return Some((map.clone(), 0)),
        Value::String(s) => s.clone(),
        _ => return None,
    };
    for depth in 1..=MAX_ENCODING_DEPTH {
        match serde_json::from_str::<Value>(&current).ok()? {
            Value::Object(map) => return Some((map, depth)),
            Value::String(inner) => current = inner,
            _ => return None,
        }
    }
    None
}

/// A blob's bytes; `None` when the blob is missing.
///
/// The host wraps a binding's value in as many string layers as it wraps the trigger's, but
/// the trigger's first layer is the context object becoming JSON text, which a text blob
/// does not need: so a blob has one layer fewer than the context. Unwrapping exactly that
/// many (not "until it stops parsing") keeps a snippet whose text is itself JSON, or a JSON
/// string literal, intact.
fn decode_blob(value: &Value, context_depth: usize) -> Option<Vec<u8>> {
    let mut text = match value {
        Value::Null => return None,
        Value::String(s) => s.clone(),
        // A host that parsed the blob for us: give the tool its JSON text back.
        other => return Some(other.to_string().into_bytes()),
    };
    for _ in 1..context_depth {
        match serde_json::from_str::<Value>(&text) {
            Ok(Value::String(inner)) => text = inner,
            Ok(Value::Null) => return None,
            _ => break,
        }
    }
    (text != "null").then(|| text.into_bytes())
}

/// `Metadata.mcptoolargs` holds every argument as a string (.NET formatting: `True`,
/// compact JSON for arrays). Turn each back into the type the schema asks for; leave it a
/// string when it does not parse, so validation names the argument.
fn coerce_string_arguments(args: Map<String, Value>, schema: &JsonObject) -> Map<String, Value> {
    let properties = schema.get("properties").and_then(Value::as_object);
    args.into_iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(name, value)| {
            let Value::String(text) = &value else {
                return (name, value);
            };
            let wanted = properties
                .and_then(|p| p.get(&name))
                .map(schema_types)
                .unwrap_or_default();
            let coerced = wanted.iter().find_map(|t| coerce(text, t)).unwrap_or(value);
            (name, coerced)
        })
        .collect()
}

fn schema_types(property: &Value) -> Vec<&str> {
    match property.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn coerce(text: &str, json_type: &str) -> Option<Value> {
    match json_type {
        "string" => Some(Value::String(text.to_owned())),
        "boolean" => match text.to_ascii_lowercase().as_str() {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            _ => None,
        },
        "integer" => text
            .parse::<i64>()
            .map(Value::from)
            .or_else(|_| text.parse::<u64>().map(Value::from))
            .ok(),
        "number" => serde_json::from_str::<serde_json::Number>(text)
            .ok()
            .map(Value::Number),
        "array" | "object" => serde_json::from_str::<Value>(text).ok().filter(|v| {
            if json_type == "array" {
                v.is_array()
            } else {
                v.is_object()
            }
        }),
        _ => None,
    }
}

/// The response body for a finished call: `ReturnValue` is a `call_tool_result` envelope
/// (a JSON string holding `{type, content}` where `content` is the serialized
/// `CallToolResult`), and every output blob is base64 so the host writes the exact bytes
/// (it base64-decodes any string that happens to be valid base64, contract §5).
pub fn encode(outcome: CallOutcome) -> Value {
    let mut result: CallToolResult = outcome.result;
    // The host speaks protocol versions that predate `resultType`.
    result.result_type = None;
    let content = serde_json::to_string(&result).unwrap_or_else(|_| {
        r#"{"content":[{"type":"text","text":"The tool's result could not be serialized."}],"isError":true}"#
            .to_owned()
    });
    let envelope = serde_json::json!({ "type": "call_tool_result", "content": content });
    let mut body = Map::new();
    if !outcome.blobs.is_empty() {
        let outputs: Map<String, Value> = outcome
            .blobs
            .into_iter()
            .map(|(name, bytes)| (name.to_owned(), Value::String(BASE64.encode(bytes))))
            .collect();
        body.insert("Outputs".to_owned(), Value::Object(outputs));
    }
    body.insert(
        "ReturnValue".to_owned(),
        Value::String(envelope.to_string()),
    );
    Value::Object(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unwraps_plain_single_and_double_encoding() {
        let ctx = json!({"name": "t", "arguments": {"a": 1}});
        let single = Value::String(ctx.to_string());
        let double = Value::String(single.to_string());
        for (value, depth) in [(ctx.clone(), 0), (single, 1), (double, 2)] {
            let (obj, d) = unwrap_to_object(&value).unwrap_or_default();
            assert_eq!(Value::Object(obj), ctx);
            assert_eq!(d, depth);
        }
    }

    #[test]
    fn blob_text_that_is_json_is_not_over_unwrapped() {
        let text = r#"{"a": 1}"#;
        let double = Value::String(Value::String(text.into()).to_string());
        assert_eq!(decode_blob(&double, 2), Some(text.as_bytes().to_vec()));
        // Passed through without the host's string layers.
        assert_eq!(
            decode_blob(&Value::String(text.into()), 2),
            Some(text.as_bytes().to_vec())
        );
    }

    #[test]
    fn missing_blob_in_every_form() {
        for v in [json!(null), json!("null"), json!("\"null\"")] {
            assert_eq!(decode_blob(&v, 2), None, "{v}");
        }
    }

    #[test]
    fn coerces_dotnet_strings_by_schema() {
        let schema = json!({"type": "object", "properties": {
            "b": {"type": "boolean"}, "i": {"type": "integer"}, "n": {"type": ["number", "null"]},
            "a": {"type": "array"}, "s": {"type": "string"}, "bad": {"type": "integer"}
        }});
        let args =
            json!({"b": "True", "i": "42", "n": "1.5", "a": "[1,2]", "s": "True", "bad": "4x"});
        let out = coerce_string_arguments(
            args.as_object().cloned().unwrap_or_default(),
            schema.as_object().unwrap_or(&JsonObject::new()),
        );
        assert_eq!(
            Value::Object(out),
            json!({"b": true, "i": 42, "n": 1.5, "a": [1, 2], "s": "True", "bad": "4x"})
        );
    }
}
