//! Argument validation against a tool's input schema.
//!
//! The Functions host only checks that required arguments are present, so types, ranges,
//! patterns and sizes are ours to check, and the message must name the argument so the model
//! can fix its call. Messages never echo the offending value: it may be huge or secret.

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::{ValidationError, Validator};
use serde_json::Value;

use crate::schema::{SchemaError, required_names};
use crate::{JsonObject, ToolError};

/// At most this many problems are spelled out in one message.
const MAX_REPORTED: usize = 5;

pub struct ArgumentValidator {
    validator: Validator,
    required: Vec<String>,
}

impl std::fmt::Debug for ArgumentValidator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArgumentValidator")
            .field("required", &self.required)
            .finish_non_exhaustive()
    }
}

impl ArgumentValidator {
    pub fn new(schema: &JsonObject) -> Result<Self, SchemaError> {
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .build(&Value::Object(schema.clone()))
            .map_err(|e| SchemaError(format!("invalid input schema: {e}")))?;
        Ok(Self {
            validator,
            required: required_names(schema).map(str::to_owned).collect(),
        })
    }

    /// Required arguments that are absent. The self-hosted front answers these with
    /// JSON-RPC -32602, as the host does.
    pub fn missing_required(&self, arguments: &JsonObject) -> Vec<&str> {
        self.required
            .iter()
            .filter(|name| !arguments.contains_key(name.as_str()))
            .map(String::as_str)
            .collect()
    }

    pub fn validate(&self, arguments: &Value) -> Result<(), ToolError> {
        let mut problems: Vec<(String, String)> = Vec::new();
        let mut total = 0usize;
        for error in self.validator.iter_errors(arguments) {
            total += 1;
            if problems.len() < MAX_REPORTED {
                let (argument, message) = describe(&error);
                problems.push((shown_name(&argument), message));
            }
        }
        match problems.len() {
            0 => Ok(()),
            1 => {
                let (argument, message) = problems.remove(0);
                if argument.is_empty() {
                    Err(ToolError::InvalidArguments(message))
                } else {
                    Err(ToolError::InvalidArgument { argument, message })
                }
            }
            _ => {
                let mut text = problems
                    .iter()
                    .map(|(arg, msg)| {
                        if arg.is_empty() {
                            msg.clone()
                        } else {
                            format!("`{arg}`: {msg}")
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("; ");
                if total > problems.len() {
                    text.push_str(&format!(" (and {} more)", total - problems.len()));
                }
                Err(ToolError::InvalidArguments(text))
            }
        }
    }
}

/// `(argument path, message)` for one schema violation.
fn describe(error: &ValidationError<'_>) -> (String, String) {
    let path = argument_path(error.instance_path().as_str());
    let instance = error.instance();
    match error.kind() {
        ValidationErrorKind::Required { property } => {
            let name = property.as_str().unwrap_or_default();
            (join(&path, name), "is required but missing".into())
        }
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            let first = unexpected.first().map(String::as_str).unwrap_or_default();
            (
                join(&path, first),
                "is not an argument this tool accepts".into(),
            )
        }
        ValidationErrorKind::Type { kind } => {
            let expected = match kind {
                TypeKind::Single(t) => t.to_string(),
                TypeKind::Multiple(ts) => ts
                    .iter()
                    .map(|t| t.to_string())
                    .collect::<Vec<_>>()
                    .join(" or "),
            };
            (
                path,
                format!(
                    "expected {}, got {}",
                    with_article(&expected),
                    type_name(instance)
                ),
            )
        }
        ValidationErrorKind::MaxLength { limit } => {
            let got = instance.as_str().map_or(0, |s| s.chars().count());
            (
                path,
                format!("must be at most {limit} characters long (got {got})"),
            )
        }
        ValidationErrorKind::MinLength { limit } => (
            path,
            if *limit == 1 {
                "must not be empty".into()
            } else {
                format!("must be at least {limit} characters long")
            },
        ),
        ValidationErrorKind::Pattern { pattern } => {
            (path, format!("must match the pattern {pattern}"))
        }
        ValidationErrorKind::Enum { options } => (path, format!("must be one of {options}")),
        ValidationErrorKind::Minimum { limit } => (path, format!("must be at least {limit}")),
        ValidationErrorKind::Maximum { limit } => (path, format!("must be at most {limit}")),
        ValidationErrorKind::ExclusiveMinimum { limit } => {
            (path, format!("must be greater than {limit}"))
        }
        ValidationErrorKind::ExclusiveMaximum { limit } => {
            (path, format!("must be less than {limit}"))
        }
        ValidationErrorKind::MaxItems { limit } => {
            (path, format!("must have at most {limit} items"))
        }
        ValidationErrorKind::MinItems { limit } => {
            (path, format!("must have at least {limit} items"))
        }
        _ => (path, error.masked_with("the value").to_string()),
    }
}

/// At most `max` characters of `text`, with an ellipsis when cut.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// `/body/items/0/qty` → `body.items[0].qty`; the root is the empty string.
fn argument_path(pointer: &str) -> String {
    let mut out = String::new();
    for segment in pointer.split('/').skip(1) {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) && !out.is_empty() {
            out.push_str(&format!("[{segment}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&segment);
        }
    }
    out
}

/// Argument names longer than this are cut in messages.
const MAX_SHOWN_NAME: usize = 64;

/// An argument name as a message may show it: names are the caller's text too, so a
/// megabyte-long name must not come back whole, and control characters are escaped so a
/// name cannot start a new line of the message.
fn shown_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .take(MAX_SHOWN_NAME)
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect();
    if name.chars().nth(MAX_SHOWN_NAME).is_some() {
        out.push('…');
    }
    out
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

fn with_article(type_name: &str) -> String {
    match type_name.chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u') => format!("an {type_name}"),
        _ => format!("a {type_name}"),
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a number",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn argument_names_are_bounded_and_escaped_in_messages() {
        let v = ArgumentValidator::new(
            json!({"type": "object", "properties": {}, "additionalProperties": false})
                .as_object()
                .unwrap_or(&JsonObject::new()),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let long = "k".repeat(1_000_000);
        let text = v
            .validate(&json!({ long: 1 }))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(text.len() < 300, "{} bytes", text.len());
        assert!(text.contains(&format!("{}…", "k".repeat(64))), "{text}");
        let text = v
            .validate(&json!({"a\r\nb": 1}))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(text.contains("a\\r\\nb") && !text.contains('\n'), "{text}");
    }

    fn validator() -> ArgumentValidator {
        let schema = json!({
            "type": "object",
            "properties": {
                "name": {"type": "string", "minLength": 1, "maxLength": 5, "pattern": "^[a-z]+$"},
                "count": {"type": "integer", "minimum": 1, "maximum": 10},
                "mode": {"enum": ["fast", "slow"]},
                "items": {"type": "array", "items": {"type": "object", "properties": {"qty": {"type": "integer"}}}}
            },
            "required": ["name"],
            "additionalProperties": false
        });
        ArgumentValidator::new(schema.as_object().unwrap_or(&JsonObject::new()))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn message(args: Value) -> String {
        validator()
            .validate(&args)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn accepts_valid_arguments() {
        assert!(
            validator()
                .validate(&json!({"name": "abc", "count": 3}))
                .is_ok()
        );
    }

    #[test]
    fn names_the_argument_with_a_wrong_type() {
        assert_eq!(
            message(json!({"name": 12})),
            "Invalid argument `name`: expected a string, got an integer"
        );
    }

    #[test]
    fn never_echoes_the_value() {
        let secretish = "x".repeat(10_000);
        let m = message(json!({"name": secretish}));
        assert_eq!(
            m,
            "Invalid argument `name`: must be at most 5 characters long (got 10000)"
        );
        assert!(!m.contains("xxxxxxxx"));
    }

    #[test]
    fn reports_missing_and_unknown_arguments() {
        assert_eq!(
            message(json!({})),
            "Invalid argument `name`: is required but missing"
        );
        assert_eq!(
            message(json!({"name": "a", "nmae": "b"})),
            "Invalid argument `nmae`: is not an argument this tool accepts"
        );
    }

    #[test]
    fn reports_ranges_enums_and_nested_paths() {
        assert_eq!(
            message(json!({"name": "a", "count": 11})),
            "Invalid argument `count`: must be at most 10"
        );
        assert_eq!(
            message(json!({"name": "a", "mode": "warp"})),
            r#"Invalid argument `mode`: must be one of ["fast","slow"]"#
        );
        assert_eq!(
            message(json!({"name": "a", "items": [{"qty": 1}, {"qty": "two"}]})),
            "Invalid argument `items[1].qty`: expected an integer, got a string"
        );
    }

    #[test]
    fn non_object_arguments_are_refused_as_a_whole() {
        assert_eq!(
            message(json!([1, 2])),
            "Invalid arguments: expected an object, got an array"
        );
    }

    #[test]
    fn lists_missing_required() {
        let v = validator();
        let args = JsonObject::new();
        assert_eq!(v.missing_required(&args), vec!["name"]);
    }
}
