//! The self-hosted front door: the same registry served as an MCP server of our own (rmcp,
//! stateless streamable HTTP), for machines without the Functions host.
//!
//! Parity with the host (architecture.md): unknown tools and missing required arguments are
//! JSON-RPC -32602; everything else is the registry's `CallToolResult`, unchanged. The blob
//! bindings the host would provide are provided here from a local folder.
//!
//! Responses are plain JSON (`json_response`): a stateless server holds no event store, so an
//! SSE stream that ends cannot be resumed, and some clients (the Python SDK 2.x) treat that
//! end as a failure. rmcp still switches a response to SSE by itself when a tool emits a
//! notification (progress) before its result, so nothing is lost.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use mcp_tools::bindings::BlobBinding;
use mcp_tools::{
    BindingDirection, CallToolResult, JsonObject, Outcome, ProgressSink, Registry, ToolContext,
    ToolError,
};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, Implementation, InitializeResult, ListToolsResult,
    PaginatedRequestParams, ProgressNotificationParam, ServerCapabilities,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde_json::json;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use tracing::Instrument as _;

use crate::local_blobs::LocalBlobs;
use crate::{server_identity, telemetry};

/// The paths clients use: the host's, so a client configuration carries over, and the
/// conventional one.
pub const MCP_PATHS: [&str; 2] = ["/runtime/webhooks/mcp", "/mcp"];

#[derive(Clone)]
pub struct ServeSettings {
    pub key: Option<crate::config::Secret>,
    /// Extra `Host` values to accept besides loopback (MCP_ALLOWED_HOSTS, WEBSITE_HOSTNAME).
    pub allowed_hosts: Vec<String>,
    pub call_timeout: Duration,
    pub blobs: LocalBlobs,
}

/// The MCP server object rmcp drives; one per request in stateless mode, so it is cheap.
#[derive(Clone)]
pub struct McpServer {
    registry: Arc<Registry>,
    blobs: LocalBlobs,
    call_timeout: Duration,
}

impl McpServer {
    pub fn new(registry: Arc<Registry>, blobs: LocalBlobs, call_timeout: Duration) -> Self {
        Self {
            registry,
            blobs,
            call_timeout,
        }
    }

    /// One span per `tools/call`, as in the Functions front: an App Insights request named
    /// after the tool, with the outcome and the client from the allow-listed `User-Agent`.
    async fn call(
        &self,
        params: CallToolRequestParams,
        headers: Option<&HeaderMap>,
        progress: Option<Arc<dyn ProgressSink>>,
    ) -> Result<CallToolResult, ErrorData> {
        let span = telemetry::call_span(&params.name, "self-hosted");
        if let Some(headers) = headers {
            telemetry::continue_trace(&span, headers);
        }
        let client = telemetry::client_name(
            headers
                .and_then(|h| h.get(axum::http::header::USER_AGENT))
                .and_then(|v| v.to_str().ok()),
        );
        let traceparent = headers
            .and_then(|h| h.get("traceparent"))
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let started = Instant::now();
        let result = self
            .call_in_span(params, traceparent, progress, &span)
            .instrument(span.clone())
            .await;
        match &result {
            Ok((tool, outcome, _)) => {
                let elapsed = started.elapsed();
                telemetry::record_call(&span, tool, *outcome, &client, elapsed);
                tracing::info!(
                    parent: &span,
                    tool = %tool,
                    outcome = outcome.as_str(),
                    client = %client,
                    duration_ms = elapsed.as_secs_f64() * 1e3,
                    "tool call"
                );
            }
            // JSON-RPC -32602 (unknown tool, missing argument): no tool ran.
            Err(_) => {
                span.record("otel.status_code", "error");
                span.record("outcome", "invalid_params");
                span.record("client", client.as_str());
            }
        }
        result.map(|(_, _, result)| result)
    }

    async fn call_in_span(
        &self,
        params: CallToolRequestParams,
        traceparent: Option<String>,
        progress: Option<Arc<dyn ProgressSink>>,
        span: &tracing::Span,
    ) -> Result<(String, Outcome, CallToolResult), ErrorData> {
        let tool = self.registry.get(&params.name).ok_or_else(|| {
            ErrorData::invalid_params(format!("Unknown tool '{}'.", params.name), None)
        })?;
        let arguments = params.arguments.unwrap_or_default();
        let missing = tool.missing_required(&arguments);
        if !missing.is_empty() {
            // The host's own wording, so clients see the same message on both front doors.
            return Err(ErrorData::invalid_params(
                format!(
                    "One or more required tool properties are missing values. Please provide: {}",
                    missing.join(", ")
                ),
                None,
            ));
        }
        let name = tool.spec().name.to_string();
        span.record("function", name.as_str());
        telemetry::record_argument_names(span, Some(&arguments));
        let spec = tool.spec();
        let mut ctx = ToolContext::new(self.call_timeout);
        if let Some(sink) = progress {
            ctx = ctx.with_progress(sink);
        }
        if let Some(traceparent) = traceparent {
            ctx = ctx.with_traceparent(traceparent);
        }
        // Blobs are located from the arguments, so only read them for arguments that pass
        // validation: an invalid call gets its isError without touching the disk.
        if tool.validate(&arguments).is_ok() {
            for binding in spec
                .bindings
                .iter()
                .filter(|b| b.direction == BindingDirection::In)
            {
                match self.read_blob(binding, &arguments).await {
                    Ok(Some(bytes)) => ctx = ctx.with_input_blob(binding.name, bytes),
                    Ok(None) => {}
                    Err(e) => return Ok((name, Outcome::ToolError, e.to_call_tool_result())),
                }
            }
        }
        let outcome = self
            .registry
            .call(
                tool,
                Some(serde_json::Value::Object(arguments.clone())),
                ctx,
            )
            .await;
        for (blob, bytes) in &outcome.blobs {
            let Some(binding) = spec.bindings.iter().find(|b| b.name == *blob) else {
                continue;
            };
            if let Err(e) = self.write_blob(binding, &arguments, bytes).await {
                return Ok((name, Outcome::ToolError, e.to_call_tool_result()));
            }
        }
        Ok((name, outcome.outcome, outcome.result))
    }

    async fn read_blob(
        &self,
        binding: &BlobBinding,
        arguments: &JsonObject,
    ) -> Result<Option<Vec<u8>>, ToolError> {
        let path = binding
            .resolve(arguments)
            .map_err(|e| ToolError::InvalidArguments(e.to_string()))?;
        self.blobs.read(&path).await.map_err(storage_error)
    }

    async fn write_blob(
        &self,
        binding: &BlobBinding,
        arguments: &JsonObject,
        bytes: &[u8],
    ) -> Result<(), ToolError> {
        let path = binding
            .resolve(arguments)
            .map_err(|e| ToolError::InvalidArguments(e.to_string()))?;
        self.blobs.write(&path, bytes).await.map_err(storage_error)
    }
}

fn storage_error(e: crate::local_blobs::BlobError) -> ToolError {
    tracing::error!(error = %e, "local blob storage failed");
    ToolError::failed("The snippet storage could not be reached.", true)
}

impl ServerHandler for McpServer {
    fn get_info(&self) -> InitializeResult {
        InitializeResult::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new(
                server_identity::NAME,
                server_identity::VERSION,
            ))
            .with_instructions(server_identity::INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(
            self.registry.specs().map(|s| s.to_mcp_tool()).collect(),
        ))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let parts = context.extensions.get::<axum::http::request::Parts>();
        let Some(token) = context.meta.get_progress_token() else {
            return self
                .call(request, parts.map(|p| &p.headers), None)
                .await
                .map(CallToolResponse::from);
        };
        // Progress goes out in order through one forwarding task, and all of it before the
        // result (rmcp then answers this request as an SSE stream instead of JSON).
        let (sender, mut reports) = tokio::sync::mpsc::unbounded_channel::<ProgressReport>();
        let peer = context.peer.clone();
        let forwarder = tokio::spawn(async move {
            while let Some((progress, total, message)) = reports.recv().await {
                let mut param = ProgressNotificationParam::new(token.clone(), progress);
                param.total = total;
                param.message = message;
                if peer.notify_progress(param).await.is_err() {
                    break;
                }
            }
        });
        let sink: Arc<dyn ProgressSink> = Arc::new(ProgressChannel(sender));
        let result = self
            .call(request, parts.map(|p| &p.headers), Some(sink))
            .await;
        // A tool that kept a copy of its context alive must not hold the answer back.
        let _ = tokio::time::timeout(PROGRESS_DRAIN, forwarder).await;
        result.map(CallToolResponse::from)
    }
}

type ProgressReport = (f64, Option<f64>, Option<String>);

/// How long an answer waits for progress notifications still being sent.
const PROGRESS_DRAIN: Duration = Duration::from_secs(1);

/// A tool's progress reports, on their way to the client as `notifications/progress`.
struct ProgressChannel(tokio::sync::mpsc::UnboundedSender<ProgressReport>);

impl ProgressSink for ProgressChannel {
    fn report(&self, progress: f64, total: Option<f64>, message: Option<String>) {
        // The receiver only goes away when the client is gone; nothing to tell then.
        let _ = self.0.send((progress, total, message));
    }
}

/// The router: MCP at both paths behind the key check, and `GET /` for liveness.
pub fn app(
    registry: Arc<Registry>,
    settings: ServeSettings,
    shutdown: CancellationToken,
) -> Router {
    let server = McpServer::new(registry, settings.blobs.clone(), settings.call_timeout);
    let mut hosts: Vec<String> = ["localhost", "127.0.0.1", "::1", "[::1]"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    hosts.extend(settings.allowed_hosts.iter().cloned());
    let mut origins: Vec<String> = vec![
        "http://localhost:*".into(),
        "http://127.0.0.1:*".into(),
        "http://[::1]:*".into(),
    ];
    origins.extend(
        settings
            .allowed_hosts
            .iter()
            .map(|h| format!("https://{h}:*")),
    );
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        .with_allowed_hosts(hosts)
        .with_allowed_origins(origins)
        .with_max_request_body_bytes(crate::serve_functions::MAX_BODY_BYTES)
        .with_cancellation_token(shutdown);
    let service = StreamableHttpService::new(
        move || Ok(server.clone()),
        Arc::new(NeverSessionManager::default()),
        config,
    );
    let mut router = Router::new().route("/", axum::routing::get(|| async { "ready" }));
    for path in MCP_PATHS {
        router = router.nest_service(path, service.clone());
    }
    router.layer(middleware::from_fn_with_state(
        Arc::new(settings.key),
        require_key,
    ))
}

/// Serves until `shutdown` is cancelled.
pub async fn run(
    listener: TcpListener,
    registry: Arc<Registry>,
    settings: ServeSettings,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let router = app(registry, settings, shutdown.clone());
    axum::serve(listener, router)
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
}

/// The host's key check: `x-functions-key` header or `?code=` query, compared in constant
/// time. `GET /` stays open so a load balancer can probe liveness.
async fn require_key(
    State(key): State<Arc<Option<crate::config::Secret>>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(key) = key.as_ref() else {
        return next.run(request).await;
    };
    if request.uri().path() == "/" {
        return next.run(request).await;
    }
    let offered = presented_key(request.headers(), request.uri().query());
    match offered {
        Some(offered) if key.matches(&offered) => next.run(request).await,
        _ => (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({
                "error": {
                    "code": "unauthorized",
                    "message": "A valid key is required: send it in the `x-functions-key` header or the `code` query parameter."
                }
            })),
        )
            .into_response(),
    }
}

fn presented_key(headers: &HeaderMap, query: Option<&str>) -> Option<String> {
    if let Some(v) = headers.get("x-functions-key").and_then(|v| v.to_str().ok()) {
        return Some(v.to_owned());
    }
    query?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == "code")
        .map(|(_, v)| percent_decode(v))
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The address was chosen by the user; refuse to expose tools without a key unless they
/// insist.
pub fn check_exposure(
    addr: SocketAddr,
    has_key: bool,
    insecure_no_auth: bool,
) -> Result<(), String> {
    if addr.ip().is_loopback() || has_key || insecure_no_auth {
        return Ok(());
    }
    Err(format!(
        "refusing to serve on {addr} without a key: set MCP_EXTENSION_KEY, bind to 127.0.0.1, \
         or pass --insecure-no-auth if this network is trusted"
    ))
}
