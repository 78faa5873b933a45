//! The custom-handler protocol over HTTP: `GET /` for readiness, `POST /{function}` for a
//! tool call, and one mapping of every invocation failure to an HTTP answer with a JSON body.
//!
//! Tool failures are never HTTP errors: the host replaces any non-2xx answer with a generic
//! message (contract §5), so they travel as 200 + `isError` inside the envelope.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use mcp_tools::{Registry, ToolContext};
use serde_json::json;
use tokio::net::TcpListener;

use tracing::Instrument as _;

use crate::invocation::{self, DecodeError};
use crate::telemetry;

/// Bodies beyond this are refused with 413. Generous on purpose: argument limits are the
/// tools' business and are answered with a readable `isError`, which a 413 cannot carry.
pub const MAX_BODY_BYTES: usize = 48 * 1024 * 1024;

const INVOCATION_ID_HEADER: &str = "x-azure-functions-invocationid";

#[derive(Clone)]
pub struct AppState {
    pub registry: Arc<Registry>,
    pub call_timeout: Duration,
}

pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/", get(ready))
        .route("/{function}", post(invoke))
        .fallback(unknown_path)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// Serves until `shutdown` resolves.
pub async fn run(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown)
        .await
}

/// The host polls this until it answers; nothing else may happen here.
async fn ready() -> &'static str {
    "ready"
}

async fn invoke(
    State(state): State<AppState>,
    function: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, InvocationError> {
    // A name that is not UTF-8 once percent-decoded (`/%ff`) names no tool; without this the
    // extractor's plain-text 400 would be the one answer without a JSON body.
    let Path(function) = function.map_err(|_| InvocationError::UnknownPath)?;
    // One span per invocation: an App Insights request of our own role, joined to the host's
    // telemetry by the invocation id.
    let span = telemetry::call_span(&function, "functions");
    telemetry::continue_trace(&span, &headers);
    span.record("function", function.as_str());
    invoke_in_span(state, function, headers, body, span.clone())
        .instrument(span)
        .await
}

async fn invoke_in_span(
    state: AppState,
    function: String,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
    span: tracing::Span,
) -> Result<Response, InvocationError> {
    let started = Instant::now();
    let invocation_id = headers
        .get(INVOCATION_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if let Some(id) = &invocation_id {
        span.record("InvocationId", id.as_str());
    }
    let failed = |error: InvocationError| {
        let (status, code) = error.status_and_code();
        span.record("otel.status_code", "error");
        span.record("outcome", code);
        span.record("http.response.status_code", status.as_u16());
        error
    };
    let tool = state
        .registry
        .get(&function)
        .ok_or_else(|| failed(InvocationError::UnknownFunction(shown_function(&function))))?;
    let body = body.map_err(|e| failed(InvocationError::from(e)))?;
    let call =
        invocation::decode(&body, tool.spec()).map_err(|e| failed(InvocationError::Decode(e)))?;
    // Shapes only: never the arguments, the blobs or the context's transport headers.
    tracing::debug!(
        context_depth = call.context_depth,
        arguments_source = call.arguments_source,
        input_blobs = call.input_blobs.len(),
        body_bytes = body.len(),
        "invocation decoded"
    );
    telemetry::record_argument_names(
        &span,
        call.arguments
            .as_ref()
            .and_then(serde_json::Value::as_object),
    );

    let mut ctx = ToolContext::new(state.call_timeout);
    for (name, bytes) in call.input_blobs {
        ctx = ctx.with_input_blob(name, bytes);
    }
    if let Some(id) = &invocation_id {
        ctx = ctx.with_invocation_id(id.clone());
    }
    if let Some(traceparent) = headers.get("traceparent").and_then(|v| v.to_str().ok()) {
        ctx = ctx.with_traceparent(traceparent);
    }
    let outcome = state.registry.call(tool, call.arguments, ctx).await;
    let elapsed = started.elapsed();
    let tool_name = tool.spec().name.to_string();
    telemetry::record_call(&span, &tool_name, outcome.outcome, &call.client, elapsed);
    tracing::info!(
        tool = %tool_name,
        outcome = outcome.outcome.as_str(),
        client = %call.client,
        invocation_id = invocation_id.as_deref().unwrap_or("-"),
        duration_ms = elapsed.as_secs_f64() * 1e3,
        "tool call"
    );
    Ok(Json(invocation::encode(outcome)).into_response())
}

/// Function names longer than this are cut in the 404's message.
const MAX_SHOWN_FUNCTION: usize = 64;

/// The requested name as the 404 may show it: the caller's text, so bounded (the URL may be
/// many kilobytes long) and with control characters escaped.
fn shown_function(name: &str) -> String {
    let mut out: String = name
        .chars()
        .take(MAX_SHOWN_FUNCTION)
        .flat_map(char::escape_debug)
        .collect();
    if name.chars().nth(MAX_SHOWN_FUNCTION).is_some() {
        out.push('…');
    }
    out
}

async fn unknown_path() -> InvocationError {
    InvocationError::UnknownPath
}

async fn method_not_allowed() -> InvocationError {
    InvocationError::MethodNotAllowed
}

/// Everything that stops a request before it becomes a tool call.
#[derive(Debug, thiserror::Error)]
pub enum InvocationError {
    #[error("no function named `{0}`: this handler serves one function per tool")]
    UnknownFunction(String),
    #[error("no such path: the handler answers GET / and POST /<function>")]
    UnknownPath,
    #[error("method not allowed: the handler answers GET / and POST /<function>")]
    MethodNotAllowed,
    #[error("the request body exceeds {MAX_BODY_BYTES} bytes")]
    BodyTooLarge,
    #[error("the request body could not be read: {0}")]
    BodyUnreadable(String),
    #[error("{0}")]
    Decode(DecodeError),
}

impl From<BytesRejection> for InvocationError {
    fn from(rejection: BytesRejection) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Self::BodyTooLarge
        } else {
            Self::BodyUnreadable(rejection.body_text())
        }
    }
}

impl InvocationError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Self::UnknownFunction(_) => (StatusCode::NOT_FOUND, "unknown_function"),
            Self::UnknownPath => (StatusCode::NOT_FOUND, "unknown_path"),
            Self::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            Self::BodyTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large"),
            Self::BodyUnreadable(_) => (StatusCode::BAD_REQUEST, "body_unreadable"),
            Self::Decode(_) => (StatusCode::BAD_REQUEST, "not_an_invocation"),
        }
    }
}

impl IntoResponse for InvocationError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        tracing::warn!(status = status.as_u16(), code, error = %self, "request refused");
        let body = json!({ "error": { "code": code, "message": self.to_string() } });
        (status, Json(body)).into_response()
    }
}
