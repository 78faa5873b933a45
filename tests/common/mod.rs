//! Helpers shared by the integration tests that drive the axum app without a socket.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use handler::serve_functions::{AppState, app};
use http_body_util::BodyExt;
use mcp_tools::Registry;
use serde_json::Value;
use tower::ServiceExt;

pub fn builtin_app() -> Router {
    app_with(
        mcp_tools::tools::builtin().expect("builtin registry"),
        Duration::from_secs(5),
    )
}

pub fn app_with(registry: Registry, call_timeout: Duration) -> Router {
    app(AppState {
        registry: Arc::new(registry),
        call_timeout,
    })
}

pub fn fixture(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/invocations/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub struct Answer {
    pub status: StatusCode,
    pub content_type: String,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// The inner `CallToolResult` of a 200 answer, after checking the envelope rules.
    pub fn call_tool_result(&self) -> Value {
        assert_eq!(
            self.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&self.body)
        );
        let body = self.json();
        let rv = body["ReturnValue"]
            .as_str()
            .expect("ReturnValue must be a JSON string");
        let envelope: Value = serde_json::from_str(rv).expect("envelope is JSON");
        assert_eq!(envelope["type"], "call_tool_result");
        let content = envelope["content"]
            .as_str()
            .expect("envelope content is a JSON string");
        let result: Value = serde_json::from_str(content).expect("CallToolResult is JSON");
        let blocks = result["content"].as_array().expect("content array");
        assert!(!blocks.is_empty(), "content must never be empty");
        result
    }

    pub fn text(&self) -> String {
        let r = self.call_tool_result();
        r["content"][0]["text"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

pub async fn send(app: &Router, method: &str, uri: &str, body: impl Into<Body>) -> Answer {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json; charset=utf-8")
        .header(
            "x-azure-functions-invocationid",
            "6a1f9a38-0000-4000-8000-000000000001",
        )
        .body(body.into())
        .expect("request");
    oneshot(app, request).await
}

/// One request through the app, without a socket.
pub async fn oneshot(app: &Router, request: Request<Body>) -> Answer {
    let response = app.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
        .to_vec();
    Answer {
        status,
        content_type,
        body,
    }
}

pub async fn post(app: &Router, function: &str, body: impl Into<Body>) -> Answer {
    send(app, "POST", &format!("/{function}"), body).await
}
pub mod captured;
pub mod mcp_cases;
pub mod serve;
