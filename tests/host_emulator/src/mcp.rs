//! The client-facing MCP endpoint (§1 A, §6): the webhook key check, the stateless
//! streamable-HTTP rules of the extension, and a hand-written JSON-RPC server. Written by
//! hand rather than with an MCP SDK so the emulator cannot share a bug with the handler.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde_json::{Map, Value, json};

use crate::invoke::{self, CallInput};
use crate::{ResponseMode, Shared};

pub const MCP_PATH: &str = "/runtime/webhooks/mcp";

/// What the extension's pinned C# SDK (0.4.0-preview.3) negotiates.
pub const SUPPORTED_VERSIONS: [&str; 3] = ["2024-11-05", "2025-03-26", "2025-06-18"];
pub const LATEST_VERSION: &str = "2025-06-18";

const METHOD_NOT_FOUND: i64 = -32601;
const INVALID_PARAMS: i64 = -32602;

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(MCP_PATH, any(endpoint))
        .with_state(shared)
}

async fn endpoint(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // The host authorizes webhooks before the extension sees the request.
    if !authorized(&shared, &uri, &headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    if method != Method::POST {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    if !accepts_both(&headers) {
        return http_error(
            StatusCode::NOT_ACCEPTABLE,
            "Not Acceptable: Client must accept both application/json and text/event-stream",
        );
    }
    let message = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(m)) if m.get("jsonrpc").and_then(Value::as_str) == Some("2.0") => m,
        _ => {
            return http_error(
                StatusCode::BAD_REQUEST,
                "Bad Request: The POST body did not contain a valid JSON-RPC message.",
            );
        }
    };
    let id = message.get("id").filter(|v| !v.is_null()).cloned();
    let (Some(method), Some(id)) = (message.get("method").and_then(Value::as_str), id) else {
        // Notifications and client responses need no answer.
        return StatusCode::ACCEPTED.into_response();
    };
    let params = message.get("params").cloned().unwrap_or(Value::Null);
    let reply = match dispatch(&shared, method, &params, &headers).await {
        Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
        Err((code, msg)) => {
            json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": msg}})
        }
    };
    respond(shared.response_mode, &reply)
}

fn authorized(shared: &Shared, uri: &Uri, headers: &HeaderMap) -> bool {
    let Some(key) = shared.key.as_deref() else {
        return true;
    };
    if shared.app.anonymous {
        return true;
    }
    let header_ok = headers
        .get_all("x-functions-key")
        .iter()
        .any(|v| v.as_bytes() == key.as_bytes());
    let query_ok = uri.query().is_some_and(|q| {
        serde_urlencoded::from_str::<Vec<(String, String)>>(q)
            .map(|pairs| pairs.iter().any(|(k, v)| k == "code" && v == key))
            .unwrap_or(false)
    });
    header_ok || query_ok
}

fn accepts_both(headers: &HeaderMap) -> bool {
    let types: Vec<String> = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| {
            t.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
        .collect();
    // ASP.NET `MatchesMediaType`: the accepted range must be a subset of the type, so a
    // bare `*/*` does not count.
    let has = |t: &str| types.iter().any(|x| x == t);
    has("application/json") && has("text/event-stream")
}

fn http_error(status: StatusCode, message: &str) -> Response {
    let body = json!({"jsonrpc": "2.0", "error": {"code": -32000, "message": message}});
    (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        body.to_string(),
    )
        .into_response()
}

fn respond(mode: ResponseMode, reply: &Value) -> Response {
    match mode {
        ResponseMode::Sse => {
            let body = format!("event: message\ndata: {reply}\n\n");
            let mut r = (StatusCode::OK, body).into_response();
            let h = r.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/event-stream"),
            );
            h.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("no-cache,no-store"),
            );
            r
        }
        ResponseMode::Json => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
            reply.to_string(),
        )
            .into_response(),
    }
}

async fn dispatch(
    shared: &Shared,
    method: &str,
    params: &Value,
    headers: &HeaderMap,
) -> Result<Value, (i64, String)> {
    match method {
        "initialize" => Ok(initialize(shared, params)),
        "ping" | "logging/setLevel" => Ok(json!({})),
        "tools/list" => Ok(json!({
            "tools": shared.app.tools.iter().map(|t| t.list_entry()).collect::<Vec<_>>()
        })),
        "tools/call" => call(shared, params, headers).await,
        other => Err((
            METHOD_NOT_FOUND,
            format!("Method '{other}' is not available."),
        )),
    }
}

fn initialize(shared: &Shared, params: &Value) -> Value {
    let requested = params.get("protocolVersion").and_then(Value::as_str);
    let version = requested
        .filter(|v| SUPPORTED_VERSIONS.contains(v))
        .unwrap_or(LATEST_VERSION);
    let mut result = Map::new();
    result.insert("protocolVersion".into(), json!(version));
    result.insert(
        "capabilities".into(),
        json!({"logging": {}, "tools": {"listChanged": true}}),
    );
    result.insert(
        "serverInfo".into(),
        json!({"name": shared.app.server_name, "version": shared.app.server_version}),
    );
    if let Some(i) = &shared.app.instructions {
        result.insert("instructions".into(), json!(i));
    }
    Value::Object(result)
}

async fn call(
    shared: &Shared,
    params: &Value,
    headers: &HeaderMap,
) -> Result<Value, (i64, String)> {
    let name = params.get("name").and_then(Value::as_str).ok_or((
        INVALID_PARAMS,
        "tools/call needs a string `name`".to_string(),
    ))?;
    let arguments = match params.get("arguments") {
        None | Some(Value::Null) => None,
        Some(Value::Object(a)) => Some(a.clone()),
        Some(_) => {
            return Err((INVALID_PARAMS, "`arguments` must be an object".into()));
        }
    };
    let lower = name.to_lowercase();
    let tool = shared
        .app
        .tools
        .iter()
        .find(|t| t.tool_name.to_lowercase() == lower)
        .ok_or((INVALID_PARAMS, format!("Unknown tool: '{name}'")))?;
    let missing: Vec<&str> = tool
        .required
        .iter()
        .filter(|r| !arguments.as_ref().is_some_and(|a| a.contains_key(*r)))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        return Err((
            INVALID_PARAMS,
            format!(
                "One or more required tool properties are missing values. Please provide: {}",
                missing.join(", ")
            ),
        ));
    }
    let input = CallInput {
        tool,
        requested_name: name,
        arguments,
        headers: header_map(headers),
        session_id: headers
            .get("mcp-session-id")
            .and_then(|v| v.to_str().ok())
            .filter(|s| !s.is_empty())
            .map(str::to_owned),
    };
    Ok(invoke::call_tool(shared, input).await)
}

fn header_map(headers: &HeaderMap) -> Map<String, Value> {
    let mut out = Map::new();
    for name in headers.keys() {
        let joined = headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect::<Vec<_>>()
            .join(",");
        out.insert(name.as_str().to_owned(), Value::String(joined));
    }
    out
}
