//! One `tools/call` as the host performs it: the `{Data, Metadata}` invocation (§4), the
//! POST to the handler, and the conversion of `{Outputs, Logs, ReturnValue}` into a
//! `CallToolResult` (§5). Every failure collapses into the generic error result, because
//! that is all the real host lets a client see.

use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::app::Tool;
use crate::blobs::{self, BindingData};
use crate::{Encoding, Shared};

pub struct CallInput<'a> {
    pub tool: &'a Tool,
    /// As the client typed it (tool names match case-insensitively).
    pub requested_name: &'a str,
    pub arguments: Option<Map<String, Value>>,
    /// Every client request header, values joined with "," like ASP.NET `StringValues`.
    pub headers: Map<String, Value>,
    pub session_id: Option<String>,
}

pub fn generic_error(tool: &str) -> Value {
    json!({
        "isError": true,
        "content": [{"type": "text", "text": format!("An error occurred invoking '{tool}'.")}]
    })
}

pub async fn call_tool(shared: &Shared, input: CallInput<'_>) -> Value {
    match try_call(shared, &input).await {
        Ok(v) => v,
        Err(reason) => {
            let line = format!(
                "invocation of '{}' (function '{}') failed: {reason}",
                input.requested_name, input.tool.function_name
            );
            eprintln!("host-emulator: {line}");
            shared.record(|r| r.failures.push(line));
            generic_error(input.requested_name)
        }
    }
}

/// .NET's `ToString()` of the argument values; `None` for JSON null, which is left out.
pub fn dotnet_string(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::Bool(true) => Some("True".into()),
        Value::Bool(false) => Some("False".into()),
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        other => Some(other.to_string()),
    }
}

/// The host serializes binding values once more than the worker needs: `Double` models
/// that, `Single` the variant the handler must accept as well.
fn encode(v: Value, enc: Encoding) -> Value {
    match enc {
        Encoding::Double => Value::String(v.to_string()),
        Encoding::Single => v,
    }
}

fn build_context(input: &CallInput<'_>) -> Value {
    let mut transport = Map::new();
    transport.insert("name".into(), json!("http-streamable"));
    if let Some(s) = &input.session_id {
        transport.insert("sessionId".into(), json!(s));
    }
    transport.insert(
        "properties".into(),
        json!({"headers": Value::Object(input.headers.clone())}),
    );
    let mut ctx = Map::new();
    ctx.insert("name".into(), json!(input.requested_name));
    if let Some(a) = &input.arguments {
        ctx.insert("arguments".into(), Value::Object(a.clone()));
    }
    if let Some(s) = &input.session_id {
        ctx.insert("sessionid".into(), json!(s));
    }
    ctx.insert("transport".into(), Value::Object(transport));
    Value::Object(ctx)
}

async fn try_call(shared: &Shared, input: &CallInput<'_>) -> Result<Value, String> {
    let tool = input.tool;
    let mcptoolargs: Map<String, Value> = input
        .arguments
        .iter()
        .flatten()
        .filter_map(|(k, v)| dotnet_string(v).map(|s| (k.clone(), Value::String(s))))
        .collect();
    let mut sys = Map::new();
    sys.insert("MethodName".into(), json!(tool.function_name));
    sys.insert("UtcNow".into(), json!(crate::ids::utc_now()));
    sys.insert("RandGuid".into(), json!(crate::ids::guid()));
    let binding_data = BindingData {
        mcptoolargs: &mcptoolargs,
        sys: &sys,
    };

    // Bindings are resolved before the function runs; a bad path means no invocation.
    let mut data = Map::new();
    let context_text = build_context(input).to_string();
    data.insert(
        tool.trigger_binding.clone(),
        encode(Value::String(context_text), shared.encoding),
    );
    for b in &tool.blob_inputs {
        let path = blobs::resolve_path(&b.path, &binding_data)?;
        let value = match blobs::read_blob(&shared.blob_root, &path)? {
            None => Value::Null,
            Some(bytes) if b.binary => Value::String(base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                bytes,
            )),
            Some(bytes) => Value::String(String::from_utf8_lossy(&bytes).into_owned()),
        };
        data.insert(b.name.clone(), encode(value, shared.encoding));
    }
    let out_paths = tool
        .blob_outputs
        .iter()
        .map(|b| blobs::resolve_path(&b.path, &binding_data).map(|p| (b, p)))
        .collect::<Result<Vec<_>, _>>()?;

    let mut metadata = Map::new();
    metadata.insert("mcptoolargs".into(), Value::Object(mcptoolargs.clone()));
    if let Some(a) = &input.arguments {
        metadata.insert("arguments".into(), Value::Object(a.clone()));
    }
    metadata.insert("sys".into(), Value::Object(sys.clone()));
    let body = json!({"Data": data, "Metadata": metadata});
    shared.record(|r| {
        r.invocations.push(body.clone());
        r.invoked_functions.push(tool.function_name.clone());
    });

    let port = shared
        .supervisor
        .ensure_ready()
        .await
        .map_err(|e| format!("handler not available: {e}"))?;
    let url = format!("http://127.0.0.1:{port}/{}", tool.function_name);
    let send = async {
        let resp = shared
            .client
            .post(&url)
            .header("Content-Type", "application/json; charset=utf-8")
            .header("X-Azure-Functions-InvocationId", crate::ids::guid())
            .body(body.to_string())
            .send()
            .await;
        let read = match resp {
            Ok(resp) => {
                let status = resp.status();
                resp.bytes().await.map(|b| (status, b))
            }
            Err(e) => Err(e),
        };
        match read {
            Ok(ok) => Ok(ok),
            Err(e) => {
                shared.supervisor.after_transport_error(port).await;
                Err(format!("POST {url}: {e}"))
            }
        }
    };
    let (status, bytes) = tokio::time::timeout(shared.invocation_timeout, send)
        .await
        .map_err(|_| format!("timed out after {}", secs(shared.invocation_timeout)))??;
    if !status.is_success() {
        return Err(format!("the handler answered HTTP {status}"));
    }
    let response: Value = serde_json::from_slice(&bytes)
        .map_err(|e| format!("the response body is not JSON: {e}"))?;
    let response = response
        .as_object()
        .ok_or("the response body is not a JSON object")?;

    if let Some(logs) = get_ci(response, "Logs") {
        let lines: Vec<String> = match logs {
            Value::Array(a) => a.iter().map(text_of).collect(),
            Value::Null => Vec::new(),
            other => vec![text_of(other)],
        };
        shared.record(|r| r.logs.extend(lines));
    }

    if let Some(outputs) = get_ci(response, "Outputs").and_then(Value::as_object) {
        for (b, path) in &out_paths {
            let Some(bytes) =
                get_ci(outputs, &b.name).and_then(|v| blobs::output_bytes(v, b.binary))
            else {
                continue;
            };
            blobs::write_blob(&shared.blob_root, path, &bytes)?;
        }
    }

    let rv = get_ci(response, "ReturnValue");
    if tool.use_result_schema {
        from_envelope(rv)
    } else {
        Ok(from_plain(rv))
    }
}

fn secs(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The host reads the response's keys case-insensitively.
fn get_ci<'a>(m: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    m.get(key).or_else(|| {
        m.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

fn from_plain(rv: Option<&Value>) -> Value {
    let text = match rv {
        None | Some(Value::Null) => return json!({"content": []}),
        Some(Value::String(s)) => s.clone(),
        Some(v @ (Value::Object(_) | Value::Array(_))) => {
            serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
        }
        Some(other) => other.to_string(),
    };
    json!({"content": [{"type": "text", "text": text}]})
}

fn from_envelope(rv: Option<&Value>) -> Result<Value, String> {
    let text = match rv {
        Some(Value::String(s)) => s,
        Some(other) => {
            return Err(format!(
                "useResultSchema: ReturnValue must be a JSON string, got {}",
                kind(other)
            ));
        }
        None => return Err("useResultSchema: ReturnValue is missing".into()),
    };
    let env: Value = serde_json::from_str(text)
        .map_err(|e| format!("useResultSchema: ReturnValue does not hold JSON: {e}"))?;
    let env = env
        .as_object()
        .ok_or("useResultSchema: the result envelope is not an object")?;
    let ty = get_ci(env, "type")
        .and_then(Value::as_str)
        .ok_or("the result envelope has no string `type`")?;
    let content = match get_ci(env, "content") {
        Some(Value::String(s)) if !s.is_empty() => s,
        Some(Value::String(_)) | None | Some(Value::Null) => {
            return Err(format!("the '{ty}' result envelope has empty content"));
        }
        Some(other) => {
            return Err(format!(
                "the envelope's `content` must be a JSON string, got {}",
                kind(other)
            ));
        }
    };
    let content: Value = serde_json::from_str(content)
        .map_err(|e| format!("the envelope's content is not JSON: {e}"))?;

    if ty == "call_tool_result" {
        return call_tool_result(&content);
    }
    let blocks = match ty {
        "text" | "image" | "audio" | "resource" | "resource_link" => {
            check_block(&content)?;
            let got = content
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if got != ty {
                return Err(format!("a '{ty}' envelope carries a '{got}' block"));
            }
            vec![content]
        }
        "multi_content_result" => {
            let a = content
                .as_array()
                .ok_or("multi_content_result content must be a JSON array")?;
            a.iter().try_for_each(check_block)?;
            a.clone()
        }
        other => return Err(format!("unknown result envelope type '{other}'")),
    };
    let mut result = Map::new();
    result.insert("content".into(), Value::Array(blocks));
    match get_ci(env, "structuredContent") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => {
            let sc: Value = serde_json::from_str(s)
                .map_err(|e| format!("structuredContent is not JSON: {e}"))?;
            result.insert("structuredContent".into(), sc);
        }
        Some(other) => {
            return Err(format!(
                "the envelope's `structuredContent` must be a JSON string, got {}",
                kind(other)
            ));
        }
    }
    Ok(Value::Object(result))
}

/// Only the fields the SDK's `CallToolResult` knows survive its deserialization.
fn call_tool_result(v: &Value) -> Result<Value, String> {
    let o = v
        .as_object()
        .ok_or("call_tool_result content must be a JSON object")?;
    let content = match o.get("content") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => {
            a.iter().try_for_each(check_block)?;
            a.clone()
        }
        Some(other) => {
            return Err(format!(
                "CallToolResult.content must be an array, got {}",
                kind(other)
            ));
        }
    };
    let mut result = Map::new();
    result.insert("content".into(), Value::Array(content));
    if let Some(sc) = o.get("structuredContent").filter(|v| !v.is_null()) {
        result.insert("structuredContent".into(), sc.clone());
    }
    match o.get("isError") {
        None | Some(Value::Null) => {}
        Some(Value::Bool(b)) => {
            result.insert("isError".into(), Value::Bool(*b));
        }
        Some(other) => {
            return Err(format!(
                "CallToolResult.isError must be a boolean, got {}",
                kind(other)
            ));
        }
    }
    if let Some(m) = o.get("_meta").filter(|v| !v.is_null()) {
        result.insert("_meta".into(), m.clone());
    }
    Ok(Value::Object(result))
}

/// What the SDK needs to deserialize a content block; anything less would throw in the host.
fn check_block(b: &Value) -> Result<(), String> {
    let o = b
        .as_object()
        .ok_or("a content block must be a JSON object")?;
    let ty = o
        .get("type")
        .and_then(Value::as_str)
        .ok_or("a content block has no string `type`")?;
    let need_str = |k: &str| {
        if o.get(k).is_some_and(Value::is_string) {
            Ok(())
        } else {
            Err(format!("a '{ty}' content block needs a string `{k}`"))
        }
    };
    match ty {
        "text" => need_str("text"),
        "image" | "audio" => need_str("data").and_then(|()| need_str("mimeType")),
        "resource_link" => need_str("uri").and_then(|()| need_str("name")),
        "resource" => {
            let r = o
                .get("resource")
                .and_then(Value::as_object)
                .ok_or("a 'resource' content block needs a `resource` object")?;
            if r.get("uri").is_some_and(Value::is_string)
                && (r.get("text").is_some_and(Value::is_string)
                    || r.get("blob").is_some_and(Value::is_string))
            {
                Ok(())
            } else {
                Err("an embedded resource needs a string `uri` and `text` or `blob`".into())
            }
        }
        other => Err(format!("unknown content block type '{other}'")),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotnet_stringification() {
        assert_eq!(dotnet_string(&json!(true)).unwrap(), "True");
        assert_eq!(dotnet_string(&json!(false)).unwrap(), "False");
        assert_eq!(dotnet_string(&json!(1.5)).unwrap(), "1.5");
        assert_eq!(dotnet_string(&json!([1, "a"])).unwrap(), r#"[1,"a"]"#);
        assert_eq!(dotnet_string(&Value::Null), None);
    }

    #[test]
    fn envelopes() {
        let env = |v: Value| Some(Value::String(v.to_string()));
        let text = json!({"type":"text","content": json!({"type":"text","text":"hi"}).to_string()});
        assert_eq!(
            from_envelope(env(text).as_ref()).unwrap(),
            json!({"content":[{"type":"text","text":"hi"}]})
        );
        let empty = json!({"type":"text","content":""});
        assert!(from_envelope(env(empty).as_ref()).is_err());
        assert!(from_envelope(Some(&json!({"type":"text"}))).is_err());
        let ctr = json!({"type":"call_tool_result",
            "content": json!({"content":[{"type":"text","text":"bad"}],"isError":true}).to_string(),
            "structuredContent": "{\"ignored\":1}"});
        assert_eq!(
            from_envelope(env(ctr).as_ref()).unwrap(),
            json!({"content":[{"type":"text","text":"bad"}],"isError":true})
        );
    }

    #[test]
    fn plain_results() {
        assert_eq!(from_plain(None), json!({"content": []}));
        assert_eq!(
            from_plain(Some(&json!({"a": 1}))),
            json!({"content":[{"type":"text","text":"{\n  \"a\": 1\n}"}]})
        );
    }
}
