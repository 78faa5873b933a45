//! Telemetry: `tracing` to stdout, and, when `APPLICATIONINSIGHTS_CONNECTION_STRING` is set,
//! OpenTelemetry traces and metrics exported to Application Insights.
//!
//! - Console: compact text, or JSON with `LOG_FORMAT=json`; `RUST_LOG` filters it (default
//!   `info`, or `warn` while exporting: the host already copies stdout into its own logs).
//! - Export: its own filter, `OTEL_FILTER` (default `info,rmcp=warn`), so a quiet console exports
//!   every call. The exporter's own HTTP stack is never exported (it would trace itself).
//!   Spans go through the async-runtime batch processor and metrics through the async-runtime
//!   periodic reader, both on the process's tokio runtime: nothing is sent before the first
//!   batch, so start-up and `GET /` never wait for the network.
//! - Each tool call is one server span (an App Insights *request*) named after the tool, with
//!   its outcome, the calling client and the host's invocation id; each downstream call is a
//!   client span (a *dependency*) opened by `mcp_tools` with plain `tracing` fields; events
//!   inside a span become its traces. Metrics: calls and durations per tool, outcome and
//!   client, and downstream durations per API and route template.
//! - Entra ingestion (`APPLICATIONINSIGHTS_AUTHENTICATION_STRING=Authorization=AAD`): the
//!   exporter's HTTP client adds a managed-identity bearer token (from `mcp_tools`' token
//!   source) and posts to `/v2.1/track`.
//!
//! Secrets: nothing here records a header map, an argument value or a result; the only
//! header read is `User-Agent`, reduced to an allow-listed client name. The connection
//! string lives in a [`Secret`] and only reaches the exporter.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use mcp_tools::Outcome;
use mcp_tools::downstream::{IdentitySettings, IdentityToken};
use opentelemetry::KeyValue;
use opentelemetry::metrics::{Counter, Histogram};
use opentelemetry::propagation::TextMapPropagator as _;
use opentelemetry::trace::{TraceContextExt as _, TracerProvider as _};
use opentelemetry_http::{HeaderExtractor, HttpClient, HttpError, Request, Response};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::filter::{EnvFilter, LevelFilter, Targets};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{Layer, Registry};

use crate::config::{IngestionAuth, LogFormat, Secret, TelemetryConfig};

/// Appended to every export filter: the exporter's HTTP stack and the SDK itself would
/// otherwise trace their own uploads, forever.
const EXPORT_INTERNALS_OFF: &str = "h2=off,hyper=off,hyper_util=off,reqwest=off,rustls=off,\
     tower=off,opentelemetry=off,opentelemetry_sdk=off,opentelemetry_application_insights=off,\
     tracing_opentelemetry=off";
/// Entra ingestion tokens are for this resource (Azure Monitor).
const MONITOR_RESOURCE: &str = "https://monitor.azure.com/";
const TOKEN_TIMEOUT: Duration = Duration::from_secs(30);
const EXPORT_TIMEOUT: Duration = Duration::from_secs(30);
/// An ingestion answer is a short JSON summary.
const MAX_INGESTION_RESPONSE: usize = 1024 * 1024;
/// The span target of tool calls, so a filter can select them.
pub const CALL_TARGET: &str = "handler::call";

static EXPORTING: AtomicBool = AtomicBool::new(false);
static RECORD_ARGUMENT_NAMES: AtomicBool = AtomicBool::new(false);

#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    // Never the connection string itself, nor the crate's message about it.
    #[error(
        "setting APPLICATIONINSIGHTS_CONNECTION_STRING is invalid: expected \
         `InstrumentationKey=…;IngestionEndpoint=https://…`"
    )]
    ConnectionString,
    #[error("the telemetry exporter's HTTP client could not be built: {0}")]
    Client(String),
    #[error("Entra-authenticated ingestion: {0}")]
    Identity(String),
}

/// The running telemetry; [`Telemetry::shutdown`] flushes what is still buffered.
#[must_use = "call shutdown() before exit, or buffered telemetry is lost"]
pub struct Telemetry {
    providers: Option<(SdkTracerProvider, SdkMeterProvider)>,
}

impl Telemetry {
    /// Whether an exporter was started (a connection string was set).
    pub fn is_exporting(&self) -> bool {
        self.providers.is_some()
    }

    /// Exports what is buffered and stops the exporter, giving up after `within` so a
    /// stopping instance is never held up by an unreachable ingestion endpoint.
    pub async fn shutdown(self, within: Duration) {
        let Some((tracer, meter)) = self.providers else {
            return;
        };
        // The SDK's shutdown blocks its thread while the runtime's tasks do the export; both
        // run side by side, each within the bound, so the whole flush is too.
        // The SDK's own bound is a little shorter, so its threads are done by the time the
        // runtime (which waits for them) is dropped.
        let inner = within.mul_f32(0.75);
        let spans = tokio::task::spawn_blocking(move || tracer.shutdown_with_timeout(inner));
        let metrics = tokio::task::spawn_blocking(move || meter.shutdown_with_timeout(inner));
        let flushed = tokio::time::timeout(within, async { (spans.await, metrics.await) }).await;
        match flushed {
            Ok((Ok(Ok(())), Ok(Ok(())))) => {}
            Ok((spans, metrics)) => {
                eprintln!(
                    "handler: telemetry flush incomplete: spans {spans:?}, metrics {metrics:?}"
                )
            }
            Err(_) => eprintln!(
                "handler: telemetry flush gave up after {} s",
                within.as_secs_f32()
            ),
        }
    }
}

/// Sets up logging to stdout and, with a connection string, the export. Call inside the
/// tokio runtime that serves (the exporter's tasks run there); nothing is sent yet.
pub fn init(
    config: &TelemetryConfig,
    identity: &IdentitySettings,
) -> Result<Telemetry, TelemetryError> {
    init_with_writer(config, identity, std::io::stdout)
}

/// [`init`] with the console written to `writer` (tests capture it).
pub fn init_with_writer<W>(
    config: &TelemetryConfig,
    identity: &IdentitySettings,
    writer: W,
) -> Result<Telemetry, TelemetryError>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let providers = match &config.connection_string {
        Some(connection_string) => Some(providers(config, connection_string, identity)?),
        None => None,
    };
    let mut layers: Vec<Box<dyn Layer<Registry> + Send + Sync>> = Vec::new();

    let default_console = if providers.is_some() {
        "warn"
    } else {
        "info,rmcp=warn"
    };
    // The call span is for the export: on the console its dozen fields would be formatted into
    // every line inside it (the "tool call" event says what matters), and the formatting alone
    // cost about 10% of a call's CPU. A filter that names the call target keeps control.
    let console_directives = config.console_filter.as_deref().unwrap_or(default_console);
    let console_directives = if console_directives.contains(CALL_TARGET) {
        console_directives.to_owned()
    } else {
        format!("{console_directives},{CALL_TARGET}=off")
    };
    let console_filter = env_filter(Some(&console_directives), default_console);
    let console = tracing_subscriber::fmt::layer()
        .with_writer(writer)
        .with_ansi(false);
    layers.push(match config.log_format {
        LogFormat::Compact => console
            .compact()
            .with_target(false)
            .with_filter(console_filter)
            .boxed(),
        LogFormat::Json => console
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_filter(console_filter)
            .boxed(),
    });

    if let Some((tracer_provider, meter_provider)) = &providers {
        let export_filter = env_filter(
            Some(&format!("{},{EXPORT_INTERNALS_OFF}", config.export_filter)),
            &format!(
                "{},{EXPORT_INTERNALS_OFF}",
                crate::config::DEFAULT_EXPORT_FILTER
            ),
        );
        layers.push(
            tracing_opentelemetry::layer()
                .with_tracer(tracer_provider.tracer("handler"))
                .with_threads(false)
                .with_filter(export_filter)
                .boxed(),
        );
        layers.push(
            tracing_opentelemetry::MetricsLayer::new(meter_provider.clone())
                .with_filter(Targets::new().with_target(
                    mcp_tools::downstream::client::METRICS_TARGET,
                    LevelFilter::TRACE,
                ))
                .boxed(),
        );
        opentelemetry::global::set_meter_provider(meter_provider.clone());
        mcp_tools::downstream::set_trace_context_source(current_traceparent);
        EXPORTING.store(true, Ordering::Relaxed);
    }
    RECORD_ARGUMENT_NAMES.store(config.record_argument_names, Ordering::Relaxed);
    // A second initialisation (tests) keeps the first subscriber.
    let _ = tracing_subscriber::registry().with(layers).try_init();
    Ok(Telemetry { providers })
}

fn env_filter(directives: Option<&str>, default: &str) -> EnvFilter {
    directives
        .and_then(|d| EnvFilter::try_new(d).ok())
        .unwrap_or_else(|| EnvFilter::new(default))
}

fn providers(
    config: &TelemetryConfig,
    connection_string: &Secret,
    identity: &IdentitySettings,
) -> Result<(SdkTracerProvider, SdkMeterProvider), TelemetryError> {
    let mut http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(EXPORT_TIMEOUT)
        .user_agent(concat!("handler/", env!("CARGO_PKG_VERSION")));
    if let Some(pem) = &config.extra_ca_pem {
        let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(|_| {
            TelemetryError::Client("APPLICATIONINSIGHTS_EXTRA_CA_PEM is not valid PEM".into())
        })?;
        http = http.tls_certs_merge(certs);
    }
    let http = http
        .build()
        .map_err(|e| TelemetryError::Client(e.to_string()))?;
    let token = match &config.ingestion_auth {
        IngestionAuth::InstrumentationKey => None,
        IngestionAuth::Entra { client_id } => Some(Arc::new(
            IdentityToken::new(
                "Application Insights ingestion",
                identity,
                MONITOR_RESOURCE,
                client_id.clone(),
            )
            .map_err(|e| TelemetryError::Identity(e.to_string()))?,
        )),
    };
    let client = IngestionClient { http, token };
    // The exporter refuses empty fields, and a copied connection string often ends in `;`.
    let connection_string = Secret::new(
        connection_string
            .expose()
            .split(';')
            .map(str::trim)
            .filter(|field| !field.is_empty())
            .collect::<Vec<_>>()
            .join(";"),
    );
    let exporter = opentelemetry_application_insights::Exporter::new_from_connection_string(
        connection_string.expose(),
        client,
    )
    .map_err(|_| TelemetryError::ConnectionString)?;

    let resource = Resource::builder_empty()
        .with_attributes([
            KeyValue::new("service.name", config.role_name.clone()),
            KeyValue::new("service.version", env!("CARGO_PKG_VERSION")),
        ])
        .build();
    let spans =
        opentelemetry_sdk::trace::span_processor_with_async_runtime::BatchSpanProcessor::builder(
            exporter.clone(),
            opentelemetry_sdk::runtime::Tokio,
        )
        .build();
    let tracer_provider = SdkTracerProvider::builder()
        .with_span_processor(spans)
        .with_resource(resource.clone())
        .build();
    let reader =
        opentelemetry_sdk::metrics::periodic_reader_with_async_runtime::PeriodicReader::builder(
            exporter,
            opentelemetry_sdk::runtime::Tokio,
        )
        .with_interval(config.metric_interval)
        .build();
    let meter_provider = SdkMeterProvider::builder()
        .with_reader(reader)
        .with_resource(resource)
        .build();
    Ok((tracer_provider, meter_provider))
}

/// The exporter's HTTP client: async reqwest, plus, for Entra ingestion, a bearer token and
/// the `/v2.1/track` path that accepts it.
#[derive(Clone)]
struct IngestionClient {
    http: reqwest::Client,
    token: Option<Arc<IdentityToken>>,
}

impl std::fmt::Debug for IngestionClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IngestionClient")
            .field("entra", &self.token.is_some())
            .finish_non_exhaustive()
    }
}

#[async_trait::async_trait]
impl HttpClient for IngestionClient {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let (parts, body) = request.into_parts();
        let mut uri = parts.uri.to_string();
        let mut bearer = None;
        if let Some(token) = &self.token {
            uri = v2_1_track(&uri);
            bearer = Some(token.token(Instant::now() + TOKEN_TIMEOUT).await?);
        }
        let mut builder = self
            .http
            .request(parts.method, uri)
            .headers(parts.headers)
            .body(body);
        if let Some(token) = &bearer {
            let mut value = http::HeaderValue::try_from(format!("Bearer {}", token.expose()))
                .map_err(|_| "the ingestion token is not a valid header value")?;
            value.set_sensitive(true);
            builder = builder.header(http::header::AUTHORIZATION, value);
        }
        let response = builder.send().await?;
        let status = response.status();
        if status == http::StatusCode::UNAUTHORIZED
            && let (Some(cache), Some(token)) = (&self.token, &bearer)
        {
            cache.invalidate(token).await;
        }
        let mut answer = Response::builder().status(status);
        if let Some(headers) = answer.headers_mut() {
            *headers = response.headers().clone();
        }
        let body = read_capped(response).await?;
        Ok(answer.body(body)?)
    }
}

/// `…/v2/track` → `…/v2.1/track`: the path Entra-authenticated ingestion requires.
fn v2_1_track(uri: &str) -> String {
    match uri.strip_suffix("/v2/track") {
        Some(base) => format!("{base}/v2.1/track"),
        None => uri.to_owned(),
    }
}

async fn read_capped(mut response: reqwest::Response) -> Result<Bytes, HttpError> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > MAX_INGESTION_RESPONSE {
            return Err("the ingestion endpoint's answer is too large".into());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(body))
}

/// The current span's W3C `traceparent`, for downstream calls (installed into `mcp_tools`).
fn current_traceparent() -> Option<String> {
    let context = Span::current().context();
    let span = context.span();
    let sc = span.span_context();
    sc.is_valid().then(|| {
        format!(
            "00-{}-{}-{:02x}",
            sc.trace_id(),
            sc.span_id(),
            sc.trace_flags().to_u8()
        )
    })
}

/// The span of one tool call, an App Insights request named after the tool. The front door
/// fills in the rest with [`record_call`] and the `record_*` helpers.
pub fn call_span(name: &str, front: &'static str) -> Span {
    tracing::info_span!(
        target: CALL_TARGET,
        "tool call",
        otel.name = %name,
        otel.kind = "server",
        otel.status_code = tracing::field::Empty,
        otel.status_description = tracing::field::Empty,
        ai.operation.name = %name,
        front,
        function = tracing::field::Empty,
        tool = tracing::field::Empty,
        outcome = tracing::field::Empty,
        client = tracing::field::Empty,
        InvocationId = tracing::field::Empty,
        argument_names = tracing::field::Empty,
        http.response.status_code = tracing::field::Empty,
    )
}

/// Continues the caller's trace (`traceparent`/`tracestate` in `headers`) when exporting.
pub fn continue_trace(span: &Span, headers: &http::HeaderMap) {
    if !EXPORTING.load(Ordering::Relaxed) || !headers.contains_key("traceparent") {
        return;
    }
    let context = TraceContextPropagator::new().extract(&HeaderExtractor(headers));
    if context.span().span_context().is_valid() {
        let _ = span.set_parent(context);
    }
}

/// Records the argument names (never values) when `TELEMETRY_RECORD_ARGUMENT_NAMES=true`.
pub fn record_argument_names(span: &Span, arguments: Option<&mcp_tools::JsonObject>) {
    if !RECORD_ARGUMENT_NAMES.load(Ordering::Relaxed) {
        return;
    }
    let names = arguments
        .map(|args| {
            let mut names: Vec<&str> = args.keys().map(String::as_str).collect();
            names.sort_unstable();
            names.join(",")
        })
        .unwrap_or_default();
    span.record("argument_names", names.as_str());
}

struct Instruments {
    calls: Counter<u64>,
    duration: Histogram<f64>,
}

fn instruments() -> &'static Instruments {
    static INSTRUMENTS: OnceLock<Instruments> = OnceLock::new();
    INSTRUMENTS.get_or_init(|| {
        let meter = opentelemetry::global::meter("handler");
        Instruments {
            calls: meter
                .u64_counter("mcp.tool.calls")
                .with_description("Tool calls, by tool, outcome and client")
                .build(),
            duration: meter
                .f64_histogram("mcp.tool.duration")
                .with_unit("ms")
                .with_description("Tool call duration, by tool, outcome and client")
                .build(),
        }
    })
}

/// Records a finished call on its span and in the metrics. A non-ok outcome marks the span
/// failed, so App Insights shows `success == false` even though the host got a 200.
pub fn record_call(span: &Span, tool: &str, outcome: Outcome, client: &str, elapsed: Duration) {
    span.record("tool", tool);
    span.record("outcome", outcome.as_str());
    span.record("client", client);
    // Both front doors answer a finished call with HTTP 200, whatever its outcome.
    span.record("http.response.status_code", 200);
    if outcome == Outcome::Ok {
        span.record("otel.status_code", "ok");
    } else {
        span.record("otel.status_code", "error");
        span.record("otel.status_description", outcome.as_str());
    }
    if EXPORTING.load(Ordering::Relaxed) {
        let attributes = [
            KeyValue::new("tool", tool.to_owned()),
            KeyValue::new("outcome", outcome.as_str()),
            KeyValue::new("client", client.to_owned()),
        ];
        let instruments = instruments();
        instruments.calls.add(1, &attributes);
        instruments
            .duration
            .record(elapsed.as_secs_f64() * 1e3, &attributes);
    }
}

/// Clients we name in telemetry, matched against the product tokens of a `User-Agent`
/// (case-insensitive). Anything else is "other": a free-form header never becomes a
/// dimension.
const KNOWN_CLIENTS: &[&str] = &[
    "claude-code",
    "claude-user",
    "Claude",
    "Cursor",
    "Code",
    "vscode",
    "Windsurf",
    "openai-mcp",
    "ChatGPT-User",
    "mcp-remote",
    "mcp-inspector",
    "azure-ai-foundry",
    "Azure-AI-Agents",
    "GitHub-Copilot",
    "goose",
    "python-httpx",
    "node",
    "undici",
    "rmcp",
    "reqwest",
    "curl",
    "PostmanRuntime",
];

/// `name/version` of an allow-listed client in `user_agent`, else `"other"` (`"none"` when
/// there is no header). The version keeps only digits and dots.
pub fn client_name(user_agent: Option<&str>) -> String {
    let Some(user_agent) = user_agent.filter(|ua| !ua.trim().is_empty()) else {
        return "none".to_owned();
    };
    for token in user_agent.split_whitespace() {
        let (name, version) = token.split_once('/').unwrap_or((token, ""));
        let Some(known) = KNOWN_CLIENTS
            .iter()
            .find(|known| known.eq_ignore_ascii_case(name))
        else {
            continue;
        };
        let version: String = version
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .take(16)
            .collect();
        return if version.is_empty() {
            (*known).to_owned()
        } else {
            format!("{known}/{version}")
        };
    }
    "other".to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_are_allow_listed() {
        for (ua, want) in [
            (
                Some("claude-code/1.0.43 (external, cli)"),
                "claude-code/1.0.43",
            ),
            (Some("python-httpx/0.28.1"), "python-httpx/0.28.1"),
            (Some("node"), "node"),
            (
                Some("Mozilla/5.0 (X11) Code/1.101.0-insider Chrome/1 Electron/35"),
                "Code/1.101.0",
            ),
            (Some("my-secret-tool/1.0 token=abc"), "other"),
            (Some("curl/8.5.0;x=secret"), "curl/8.5.0"),
            (Some(""), "none"),
            (None, "none"),
        ] {
            assert_eq!(client_name(ua), want, "{ua:?}");
        }
    }

    #[test]
    fn entra_ingestion_posts_to_v2_1() {
        assert_eq!(
            v2_1_track("https://westeurope-5.in.applicationinsights.azure.com/v2/track"),
            "https://westeurope-5.in.applicationinsights.azure.com/v2.1/track"
        );
        assert_eq!(v2_1_track("https://x/other"), "https://x/other");
    }

    #[tokio::test]
    async fn without_a_connection_string_no_exporter_starts() {
        let telemetry = init_with_writer(
            &TelemetryConfig::default(),
            &IdentitySettings::default(),
            std::io::sink,
        );
        let Ok(telemetry) = telemetry else {
            panic!("console-only telemetry cannot fail");
        };
        assert!(!telemetry.is_exporting());
        assert!(!EXPORTING.load(Ordering::Relaxed));
        telemetry.shutdown(Duration::from_millis(10)).await;
    }

    #[tokio::test]
    async fn connection_strings_are_checked_without_being_quoted() {
        let with = |text: &str| TelemetryConfig {
            connection_string: Some(Secret::new(text)),
            ..TelemetryConfig::default()
        };
        let bad = providers(
            &with("InstrumentationKey=secret-ikey;Broken"),
            &Secret::new("InstrumentationKey=secret-ikey;Broken"),
            &IdentitySettings::default(),
        );
        match bad {
            Ok(_) => panic!("a malformed connection string was accepted"),
            Err(e) => assert!(!e.to_string().contains("secret-ikey"), "{e}"),
        }
        let trailing = "InstrumentationKey=k;IngestionEndpoint=https://x.example/;";
        let good = providers(
            &with(trailing),
            &Secret::new(trailing),
            &IdentitySettings::default(),
        );
        let Ok((tracer, meter)) = good else {
            panic!("a trailing `;` must be accepted");
        };
        let _ = tokio::task::spawn_blocking(move || (tracer.shutdown(), meter.shutdown())).await;
    }
}
