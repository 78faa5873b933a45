//! One OpenAPI operation as a tool: its name, schemas and annotations, and how a call's
//! arguments become a [`DownstreamRequest`].
//!
//! Path, query and header parameters are top-level arguments; a JSON request body is the one
//! argument `body`. Credentials and transport headers (`Authorization`, `Cookie`, `Host`,
//! `Content-Type`, …) are never arguments: the client sets them.

use reqwest::Method;
use rmcp::model::ToolAnnotations;
use serde_json::{Map, Value, json};

use super::document::{Document, OpenApiError};
use super::schema::{Converter, Direction};
use super::selection::SelectedOperation;
use crate::downstream::request::{DownstreamRequest, expand_path, is_reserved_header};
use crate::{JsonObject, ToolError};

const BODY: &str = "body";
const MAX_DESCRIPTION: usize = 4000;
/// Query parameters that narrow an answer, most useful first: named in "too large" hints.
const NARROWING: &[&str] = &[
    "pageSize",
    "page_size",
    "limit",
    "per_page",
    "perPage",
    "top",
    "$top",
    "maxResults",
    "max_results",
    "size",
    "count",
    "fields",
    "filter",
    "q",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Location {
    Path,
    Query,
    Header,
}

#[derive(Debug, Clone)]
struct Parameter {
    name: String,
    location: Location,
    /// Arrays in a query: `a=1&a=2` when exploded (the default), `a=1,2` otherwise.
    explode: bool,
}

#[derive(Debug, Clone)]
pub struct Operation {
    pub method: Method,
    pub path: String,
    pub name: String,
    pub title: Option<String>,
    pub description: String,
    pub input_schema: JsonObject,
    pub output_schema: Option<JsonObject>,
    /// The answer is not an object, so the output schema and result wrap it as `{"result": …}`.
    pub wrap_result: bool,
    pub annotations: ToolAnnotations,
    pub narrowing_argument: Option<String>,
    parameters: Vec<Parameter>,
    has_body: bool,
}

impl Operation {
    pub fn build(
        doc: &Document,
        method: &str,
        path: &str,
        selected: &SelectedOperation,
    ) -> Result<Self, OpenApiError> {
        let context = |e: OpenApiError| {
            OpenApiError::new(format!(
                "operation {} {path}: {e}",
                method.to_ascii_uppercase()
            ))
        };
        Self::build_inner(doc, method, path, selected).map_err(context)
    }

    fn build_inner(
        doc: &Document,
        method: &str,
        path: &str,
        selected: &SelectedOperation,
    ) -> Result<Self, OpenApiError> {
        let path_item = doc.resolve(&doc.root()["paths"][path])?;
        let op = &path_item[method];
        if !op.is_object() {
            return Err(OpenApiError::new("not in the document"));
        }
        let http_method = Method::from_bytes(method.to_ascii_uppercase().as_bytes())
            .map_err(|_| OpenApiError::new("unknown method"))?;

        let mut input = Converter::new(doc, Direction::Input);
        let mut properties = Map::new();
        let mut required = Vec::new();
        let mut parameters = Vec::new();
        for raw in merged_parameters(doc, path_item, op)? {
            let name = raw["name"]
                .as_str()
                .ok_or_else(|| OpenApiError::new("a parameter has no name"))?;
            let location = match raw["in"].as_str() {
                Some("path") => Location::Path,
                Some("query") => Location::Query,
                Some("header") if is_reserved_header(name) => continue,
                Some("header") => Location::Header,
                Some("cookie") if raw["required"] == Value::Bool(true) => {
                    return Err(OpenApiError::new(format!(
                        "required cookie parameter `{name}` is not supported"
                    )));
                }
                Some("cookie") => continue,
                other => {
                    return Err(OpenApiError::new(format!(
                        "parameter `{name}` is in {other:?}, which is not a parameter location"
                    )));
                }
            };
            let mut schema = match raw.get("schema") {
                Some(s) => input.convert(s)?,
                None => json!({"type": "string"}),
            };
            check_parameter_shape(name, location, &schema)?;
            if let (Value::Object(s), Some(d)) = (&mut schema, raw.get("description")) {
                s.insert("description".into(), d.clone());
            }
            if properties.insert(name.to_owned(), schema).is_some() {
                return Err(OpenApiError::new(format!(
                    "two parameters are both named `{name}`; tool arguments must be unique"
                )));
            }
            if location == Location::Path || raw["required"] == Value::Bool(true) {
                required.push(Value::String(name.to_owned()));
            }
            parameters.push(Parameter {
                name: name.to_owned(),
                location,
                explode: raw.get("explode").and_then(Value::as_bool).unwrap_or(true),
            });
        }
        for placeholder in placeholders(path) {
            if !parameters
                .iter()
                .any(|p| p.location == Location::Path && p.name == placeholder)
            {
                return Err(OpenApiError::new(format!(
                    "path parameter `{placeholder}` is not declared"
                )));
            }
        }

        let mut has_body = false;
        if let Some(body) = op.get("requestBody") {
            let body = doc.resolve(body)?;
            let schema = json_media(&body["content"]).ok_or_else(|| {
                OpenApiError::new("the request body is not JSON, which is not supported")
            })?;
            let mut schema = input.convert(schema.get("schema").unwrap_or(&json!({})))?;
            if let (Value::Object(s), Some(d)) = (&mut schema, body.get("description"))
                && !s.contains_key("description")
            {
                s.insert("description".into(), d.clone());
            }
            if properties.insert(BODY.to_owned(), schema).is_some() {
                return Err(OpenApiError::new(
                    "a parameter is named `body`, which clashes with the request body argument",
                ));
            }
            if body["required"] == Value::Bool(true) {
                required.push(Value::String(BODY.to_owned()));
            }
            has_body = true;
        }
        let mut input_schema = JsonObject::new();
        input_schema.insert("type".into(), json!("object"));
        input_schema.insert("properties".into(), Value::Object(properties));
        input_schema.insert("required".into(), Value::Array(required));
        input_schema.insert("additionalProperties".into(), Value::Bool(false));
        let defs = input.finish()?;
        if !defs.is_empty() {
            input_schema.insert("$defs".into(), Value::Object(defs));
        }

        let (output_schema, wrap_result) = output_schema(doc, op)?;
        let operation_id = op.get("operationId").and_then(Value::as_str);
        let name = match (&selected.name, operation_id) {
            (Some(name), _) => name.clone(),
            (None, Some(id)) => tool_name(id),
            (None, None) => tool_name(&method_path_name(method, path)),
        };
        let summary = op.get("summary").and_then(Value::as_str).map(str::trim);
        let description = selected.description.clone().unwrap_or_else(|| {
            let long = op.get("description").and_then(Value::as_str).map(str::trim);
            match (summary, long) {
                (Some(s), Some(d)) if !d.is_empty() => format!("{s}\n\n{d}"),
                (Some(s), _) if !s.is_empty() => s.to_owned(),
                (_, Some(d)) if !d.is_empty() => d.to_owned(),
                _ => format!("{} {path}", method.to_ascii_uppercase()),
            }
        });
        let title = selected
            .title
            .clone()
            .or_else(|| summary.filter(|s| !s.is_empty()).map(str::to_owned));
        let narrowing_argument = match &selected.narrow_with {
            Some(arg) if parameters.iter().any(|p| &p.name == arg) => Some(arg.clone()),
            Some(arg) => {
                return Err(OpenApiError::new(format!(
                    "narrow_with names `{arg}`, which is not a parameter"
                )));
            }
            None => NARROWING
                .iter()
                .find(|n| {
                    parameters
                        .iter()
                        .any(|p| p.location == Location::Query && p.name == **n)
                })
                .map(|n| (*n).to_owned()),
        };
        Ok(Self {
            annotations: annotations(&http_method, title.as_deref()),
            method: http_method,
            path: path.to_owned(),
            name,
            title,
            description: crate::validate::truncate(&description, MAX_DESCRIPTION),
            input_schema,
            output_schema,
            wrap_result,
            narrowing_argument,
            parameters,
            has_body,
        })
    }

    /// The request for one call; `arguments` have been validated against the input schema.
    pub fn request(&self, arguments: &JsonObject) -> Result<DownstreamRequest, ToolError> {
        let path = expand_path(&self.path, |name| arguments.get(name).and_then(scalar)).map_err(
            |name| ToolError::invalid_argument(name, "must be a non-empty string or number"),
        )?;
        let mut request = DownstreamRequest::new(self.method.clone(), self.path.clone(), path);
        for p in &self.parameters {
            let Some(value) = arguments.get(&p.name) else {
                continue;
            };
            match (p.location, value) {
                (Location::Path, _) | (_, Value::Null) => {}
                (Location::Query, Value::Array(items)) => {
                    let items: Vec<String> = items.iter().filter_map(scalar).collect();
                    if p.explode {
                        for item in items {
                            request.query.push((p.name.clone(), item));
                        }
                    } else {
                        request.query.push((p.name.clone(), items.join(",")));
                    }
                }
                (Location::Query, v) => {
                    if let Some(s) = scalar(v) {
                        request.query.push((p.name.clone(), s));
                    }
                }
                (Location::Header, v) => {
                    let Some(s) = scalar(v) else { continue };
                    if s.chars().any(|c| c.is_control()) {
                        return Err(ToolError::invalid_argument(
                            &p.name,
                            "must not contain control characters",
                        ));
                    }
                    request.headers.push((p.name.clone(), s));
                }
            }
        }
        if self.has_body
            && let Some(body) = arguments.get(BODY)
        {
            request.json_body = Some(body.clone());
        }
        Ok(request)
    }
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(integral(n).unwrap_or_else(|| n.to_string())),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// `1e2` and `1.0` are integers to JSON Schema, so they pass an `integer` parameter's
/// validation, but serde_json keeps them as floats and would print `100.0`, which an API
/// that parses integers refuses. Within the range where a double is exact, print them as
/// integers.
fn integral(n: &serde_json::Number) -> Option<String> {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    let f = n.as_f64().filter(|_| n.is_f64())?;
    // The cast is exact: the value is whole and within ±2^53.
    (f.fract() == 0.0 && f.abs() <= EXACT).then(|| format!("{}", f as i64))
}

/// Path-item parameters, overridden by the operation's own of the same name and location.
fn merged_parameters<'a>(
    doc: &'a Document,
    path_item: &'a Value,
    op: &'a Value,
) -> Result<Vec<&'a Value>, OpenApiError> {
    let mut merged: Vec<&Value> = Vec::new();
    for source in [path_item, op] {
        for raw in source
            .get("parameters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let resolved = doc.resolve(raw)?;
            merged.retain(|p| p["name"] != resolved["name"] || p["in"] != resolved["in"]);
            merged.push(resolved);
        }
    }
    Ok(merged)
}

/// Path parameters are one segment: scalars only. Query parameters may be arrays of
/// scalars; objects (`deepObject`, `form` objects) are not supported.
fn check_parameter_shape(
    name: &str,
    location: Location,
    schema: &Value,
) -> Result<(), OpenApiError> {
    let types = types_of(schema);
    let scalar = |t: &str| matches!(t, "string" | "integer" | "number" | "boolean" | "null");
    let ok = match location {
        Location::Path | Location::Header => types.iter().all(|t| scalar(t)),
        Location::Query => types.iter().all(|t| {
            scalar(t)
                || (t == "array"
                    && types_of(schema.get("items").unwrap_or(&Value::Null))
                        .iter()
                        .all(|t| scalar(t)))
        }),
    };
    if ok {
        Ok(())
    } else {
        Err(OpenApiError::new(format!(
            "parameter `{name}` has a type ({}) that cannot be sent in the {location:?}",
            types.join(", ")
        )))
    }
}

fn types_of(schema: &Value) -> Vec<String> {
    match schema.get("type") {
        Some(Value::String(t)) => vec![t.clone()],
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(|t| t.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

fn placeholders(path: &str) -> impl Iterator<Item = &str> {
    path.split('{')
        .skip(1)
        .filter_map(|s| s.split_once('}').map(|(name, _)| name))
}

/// `application/json`, or any `…+json`, from a `content` map.
fn json_media(content: &Value) -> Option<&Value> {
    let content = content.as_object()?;
    content.get("application/json").or_else(|| {
        content
            .iter()
            .find(|(k, _)| {
                let k = k.split(';').next().unwrap_or_default().trim();
                k.ends_with("+json") || k == "application/json"
            })
            .map(|(_, v)| v)
    })
}

/// The schema of the first 2xx JSON response, with an object root (wrapped if need be).
fn output_schema(doc: &Document, op: &Value) -> Result<(Option<JsonObject>, bool), OpenApiError> {
    let Some(responses) = op.get("responses").and_then(Value::as_object) else {
        return Ok((None, false));
    };
    let mut codes: Vec<&String> = responses.keys().filter(|c| c.starts_with('2')).collect();
    codes.sort();
    for code in codes {
        let response = doc.resolve(&responses[code.as_str()])?;
        let Some(media) = json_media(&response["content"]) else {
            continue;
        };
        let Some(schema) = media.get("schema") else {
            continue;
        };
        let mut output = Converter::new(doc, Direction::Output);
        let converted = output.convert(schema)?;
        let defs = output.finish()?;
        let is_object_root = converted.get("type") == Some(&json!("object"));
        let (mut root, wrapped) = match converted {
            Value::Object(map) if is_object_root => (map, false),
            other => {
                let mut root = JsonObject::new();
                root.insert("type".into(), json!("object"));
                root.insert("properties".into(), json!({ "result": other }));
                root.insert("required".into(), json!(["result"]));
                (root, true)
            }
        };
        if !defs.is_empty() {
            root.insert("$defs".into(), Value::Object(defs));
        }
        let root = crate::schema::object_root(root).map_err(|e| OpenApiError::new(e.0))?;
        return Ok((Some(root), wrapped));
    }
    Ok((None, false))
}

fn annotations(method: &Method, title: Option<&str>) -> ToolAnnotations {
    let base = match title {
        Some(t) => ToolAnnotations::with_title(t),
        None => ToolAnnotations::new(),
    };
    let base = base.open_world(true);
    match *method {
        Method::GET | Method::HEAD | Method::OPTIONS => base.read_only(true).idempotent(true),
        Method::PUT => base.read_only(false).idempotent(true).destructive(false),
        Method::DELETE => base.read_only(false).idempotent(true).destructive(true),
        _ => base.read_only(false).idempotent(false).destructive(false),
    }
}

/// `listOrders` → `list_orders`; anything outside `[A-Za-z0-9_-]` becomes `_`; at most 64.
pub fn tool_name(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len() + 8);
    let mut previous: Option<char> = None;
    for c in raw.chars() {
        if c.is_ascii_uppercase() {
            if previous.is_some_and(|p| p.is_ascii_lowercase() || p.is_ascii_digit()) {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
        previous = Some(c);
    }
    let trimmed = out.trim_matches('_');
    trimmed.chars().take(64).collect()
}

/// `get` + `/orders/{orderId}/items` → `get_orders_by_orderId_items`.
fn method_path_name(method: &str, path: &str) -> String {
    let mut name = method.to_ascii_lowercase();
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        name.push('_');
        match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(param) => {
                name.push_str("by_");
                name.push_str(param);
            }
            None => name.push_str(segment),
        }
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_floats_are_sent_as_integers() {
        for (value, text) in [
            (serde_json::json!(1e2), "100"),
            (serde_json::json!(1.0), "1"),
            (serde_json::json!(-0.0), "0"),
            (serde_json::json!(1.5), "1.5"),
            // Beyond 2^53 a double is not an exact integer: left as serde_json prints it.
            (serde_json::json!(1e300), "1e+300"),
            (serde_json::json!(7), "7"),
        ] {
            assert_eq!(scalar(&value).as_deref(), Some(text), "{value}");
        }
    }

    #[test]
    fn names_are_stable_and_valid() {
        assert_eq!(tool_name("listOrders"), "list_orders");
        assert_eq!(tool_name("getHTTPStatus2"), "get_httpstatus2");
        assert_eq!(tool_name("orders.get-by id"), "orders_get-by_id");
        assert_eq!(
            tool_name(&method_path_name("get", "/orders/{orderId}/items")),
            "get_orders_by_order_id_items"
        );
        assert_eq!(tool_name(&"a".repeat(80)).len(), 64);
    }
}
