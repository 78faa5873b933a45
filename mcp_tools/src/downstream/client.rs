//! One downstream API's client: deadline, bulkhead, retries, credentials, size-capped reads.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderName, HeaderValue};
use reqwest::{Response, StatusCode};
use serde::de::DeserializeOwned;
use tokio::sync::Semaphore;
use url::Url;

use super::auth::Credential;
use super::error::{DownstreamError, DownstreamErrorKind};
use super::request::{DownstreamRequest, is_reserved_header, join};
use super::settings::KeyPlacement;
use super::{redact, retry};
use crate::{Secret, ToolContext};
use tracing::Instrument as _;

/// The target of the events that carry downstream metrics (`histogram.*` fields), so a
/// metrics layer can select them and a log filter can leave them out.
pub const METRICS_TARGET: &str = "mcp_tools::metrics";

/// Our own error answer must reach the model before the registry's deadline fires.
const DEADLINE_MARGIN: Duration = Duration::from_millis(50);
/// Enough of an error body for a useful excerpt.
const ERROR_BODY_BYTES: usize = 8 * 1024;
const EXCERPT_CHARS: usize = 300;

/// A successful (2xx) answer, read up to the API's size cap.
#[derive(Debug, Clone)]
pub struct DownstreamResponse {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
    /// The body was longer than the cap; `body` holds its first `cap` bytes.
    pub truncated: bool,
    /// The API's `MAX_RESPONSE_BYTES`.
    pub cap: usize,
}

pub struct ApiClient {
    /// The API's name for messages (`orders`).
    pub(crate) name: String,
    pub(crate) key: String,
    pub(crate) base_url: Url,
    pub(crate) http: reqwest::Client,
    pub(crate) credential: Credential,
    pub(crate) timeout: Duration,
    pub(crate) max_response_bytes: usize,
    pub(crate) max_concurrency: usize,
    pub(crate) bulkhead: Semaphore,
}

impl std::fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiClient")
            .field("name", &self.name)
            .field("settings_key", &self.key)
            .field("auth", &self.credential.kind())
            .finish_non_exhaustive()
    }
}

enum Attempt {
    Done(DownstreamResponse),
    /// Try again after the wait (or a backoff), if there is time.
    Retry(DownstreamError, Option<Duration>),
    /// The bearer token was refused: fetch a new one and try once more.
    Unauthorized(DownstreamError, Secret),
    Fail(DownstreamError),
}

impl ApiClient {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Sends `request` and returns the 2xx answer; every failure is a [`DownstreamError`]
    /// that says what happened and whether a retry may help, within the call's deadline.
    ///
    /// The call is one `tracing` span with `otel.kind = "client"` and semantic-convention
    /// fields, which the handler's telemetry turns into an Application Insights dependency
    /// (this crate stays free of OpenTelemetry). The span names the route template and the
    /// base URL, never the concrete path with its ids, the query, or a credential.
    pub async fn send(
        &self,
        request: &DownstreamRequest,
        ctx: &ToolContext,
    ) -> Result<DownstreamResponse, DownstreamError> {
        let started = Instant::now();
        let span = tracing::info_span!(
            "downstream call",
            otel.name = %format_args!("{} {}", request.method, request.route),
            otel.kind = "client",
            otel.status_code = tracing::field::Empty,
            api = %self.name,
            http.request.method = %request.method,
            url.template = %request.route,
            url.full = %self.templated_url(&request.route),
            server.address = self.base_url.host_str().unwrap_or_default(),
            server.port = self.base_url.port_or_known_default().unwrap_or_default(),
            http.response.status_code = tracing::field::Empty,
            attempts = tracing::field::Empty,
            error.type = tracing::field::Empty,
        );
        let result = self
            .send_attempts(request, ctx, started)
            .instrument(span.clone())
            .await;
        let status = match &result {
            Ok(response) => {
                span.record("otel.status_code", "ok");
                Some(response.status)
            }
            Err(error) => {
                span.record("otel.status_code", "error");
                span.record("error.type", error.kind.as_str());
                error.status
            }
        };
        if let Some(status) = status {
            span.record("http.response.status_code", status);
        }
        // A metric event for the handler's metrics layer: no message, so that only the
        // fields below become the metric's dimensions.
        tracing::event!(
            target: METRICS_TARGET,
            parent: &span,
            tracing::Level::TRACE,
            histogram.downstream.duration = started.elapsed().as_secs_f64(),
            api = %self.name,
            http.request.method = %request.method,
            url.template = %request.route,
            http.response.status_code = status.unwrap_or_default(),
            outcome = if result.is_ok() { "ok" } else { "error" },
        );
        result
    }

    /// The base URL with the route template appended: where the call went, without ids.
    fn templated_url(&self, route: &str) -> String {
        let base = self.base_url.as_str().trim_end_matches('/');
        format!("{base}{route}")
    }

    async fn send_attempts(
        &self,
        request: &DownstreamRequest,
        ctx: &ToolContext,
        started: Instant,
    ) -> Result<DownstreamResponse, DownstreamError> {
        let deadline = ctx
            .deadline()
            .checked_sub(DEADLINE_MARGIN)
            .unwrap_or(started)
            .min(started + self.timeout);
        let budget = deadline.saturating_duration_since(started);

        let _permit = match tokio::time::timeout_at(deadline.into(), self.bulkhead.acquire()).await
        {
            Ok(Ok(permit)) => permit,
            _ => {
                tracing::warn!("downstream concurrency limit reached");
                return Err(DownstreamError::new(
                    DownstreamErrorKind::Busy,
                    format!(
                        "API {} already has {} calls in progress (its limit) and none finished \
                         within {:.1} s.",
                        self.name,
                        self.max_concurrency,
                        budget.as_secs_f32()
                    ),
                    true,
                ));
            }
        };

        let mut attempt = 1;
        let mut refreshed_token = false;
        loop {
            let outcome = match tokio::time::timeout_at(
                deadline.into(),
                self.attempt(request, ctx, deadline, budget),
            )
            .await
            {
                Ok(outcome) => outcome,
                Err(_) => Attempt::Fail(DownstreamError::timeout(&self.name, budget)),
            };
            let (error, wait) = match outcome {
                Attempt::Done(response) => {
                    tracing::Span::current().record("attempts", attempt);
                    tracing::debug!(
                        status = response.status,
                        attempt,
                        elapsed_ms = started.elapsed().as_millis() as u64,
                        "downstream call succeeded"
                    );
                    return Ok(response);
                }
                Attempt::Fail(error) => return Err(self.failed(error, attempt)),
                Attempt::Unauthorized(error, rejected) => {
                    if refreshed_token || attempt >= retry::MAX_ATTEMPTS {
                        return Err(self.failed(error, attempt));
                    }
                    if let Credential::Bearer(cache) = &self.credential {
                        cache.invalidate(&rejected).await;
                    }
                    refreshed_token = true;
                    (error, Some(Duration::ZERO))
                }
                Attempt::Retry(error, wait) => {
                    if attempt >= retry::MAX_ATTEMPTS {
                        return Err(self.failed(error, attempt));
                    }
                    (error, wait)
                }
            };
            let wait = wait.unwrap_or_else(|| retry::backoff(attempt));
            // Never sleep past the deadline: answer now, and say when a retry may work.
            if Instant::now() + wait + DEADLINE_MARGIN >= deadline {
                return Err(self.failed(error, attempt));
            }
            // The message may quote the API's answer: the kind and status are enough here.
            tracing::debug!(
                attempt,
                wait_ms = wait.as_millis() as u64,
                kind = ?error.kind,
                status = ?error.status,
                "retrying downstream call"
            );
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    /// A 2xx JSON answer as `T` (hand-written tools).
    pub async fn get_json<T: DeserializeOwned>(
        &self,
        request: &DownstreamRequest,
        ctx: &ToolContext,
    ) -> Result<T, DownstreamError> {
        let response = self.send(request, ctx).await?;
        if response.truncated {
            return Err(DownstreamError::new(
                DownstreamErrorKind::TooLarge,
                format!(
                    "API {} answered with more than {} bytes.",
                    self.name, response.cap
                ),
                false,
            ));
        }
        serde_json::from_slice(&response.body).map_err(|e| {
            DownstreamError::new(
                DownstreamErrorKind::InvalidResponse,
                format!(
                    "API {} answered {} {} with JSON this tool cannot read ({e}).",
                    self.name, request.method, request.route
                ),
                false,
            )
        })
    }

    fn failed(&self, error: DownstreamError, attempts: u32) -> DownstreamError {
        tracing::Span::current().record("attempts", attempts);
        tracing::warn!(kind = ?error.kind, status = ?error.status, attempts, "downstream call failed");
        error
    }

    async fn attempt(
        &self,
        request: &DownstreamRequest,
        ctx: &ToolContext,
        deadline: Instant,
        budget: Duration,
    ) -> Attempt {
        let url = match join(&self.base_url, &request.path, &request.query) {
            Ok(mut url) => {
                if let Credential::ApiKey {
                    key,
                    placement: KeyPlacement::Query(param),
                } = &self.credential
                {
                    url.query_pairs_mut().append_pair(param, key.expose());
                }
                url
            }
            Err(reason) => {
                return Attempt::Fail(DownstreamError::new(
                    DownstreamErrorKind::Request,
                    format!("The request to API {} was refused: {reason}.", self.name),
                    false,
                ));
            }
        };
        let mut builder = self
            .http
            .request(request.method.clone(), url)
            .timeout(deadline.saturating_duration_since(Instant::now()))
            .header(
                ACCEPT,
                "application/json, application/problem+json;q=0.9, text/*;q=0.8, */*;q=0.5",
            );
        for (name, value) in &request.headers {
            if is_reserved_header(name) {
                continue;
            }
            match (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) {
                (Ok(n), Ok(v)) => builder = builder.header(n, v),
                _ => {
                    return Attempt::Fail(DownstreamError::new(
                        DownstreamErrorKind::Request,
                        format!("Header `{name}` has a value that cannot be sent."),
                        false,
                    ));
                }
            }
        }
        // The current (dependency) span's context when the process traces, so the API's
        // own telemetry nests under this call; else the caller's, passed on unchanged.
        let traceparent = super::current_traceparent();
        if let Some(traceparent) = traceparent.as_deref().or(ctx.traceparent()) {
            builder = builder.header("traceparent", traceparent);
        }
        if let Some(body) = &request.json_body {
            builder = builder
                .header(CONTENT_TYPE, "application/json")
                .body(body.to_string());
        }
        let mut bearer = None;
        match &self.credential {
            Credential::None => {}
            Credential::ApiKey {
                key,
                placement: KeyPlacement::Header(header),
            } => builder = builder.header(header, key.expose()),
            // Already in the URL.
            Credential::ApiKey { .. } => {}
            Credential::Bearer(cache) => match cache.token(deadline).await {
                Ok(token) => {
                    builder = builder.bearer_auth(token.expose());
                    bearer = Some(token);
                }
                Err(e) => return Attempt::Fail(e),
            },
        }

        let response = match builder.send().await {
            Ok(r) => r,
            Err(e) => return self.transport_failure(&e, request.is_idempotent(), deadline, budget),
        };
        let status = response.status();
        if status.is_success() {
            let content_type = response
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            return match read_capped(response, self.max_response_bytes).await {
                Ok((body, truncated)) => Attempt::Done(DownstreamResponse {
                    status: status.as_u16(),
                    content_type,
                    body,
                    truncated,
                    cap: self.max_response_bytes,
                }),
                Err(e) => self.transport_failure(&e, request.is_idempotent(), deadline, budget),
            };
        }
        let retry_after = retry::retry_after(response.headers());
        let retryable = retry::retry_status(status, request.is_idempotent(), retry_after.is_some());
        let body = read_capped(response, ERROR_BODY_BYTES)
            .await
            .map(|(b, _)| b)
            .unwrap_or_default();
        let error = self.status_error(status, &body, retry_after, request);
        if status == StatusCode::UNAUTHORIZED
            && let Some(token) = bearer
        {
            return Attempt::Unauthorized(error, token);
        }
        if retryable {
            Attempt::Retry(error, retry_after)
        } else {
            Attempt::Fail(error)
        }
    }

    fn transport_failure(
        &self,
        e: &reqwest::Error,
        idempotent: bool,
        deadline: Instant,
        budget: Duration,
    ) -> Attempt {
        if e.is_timeout() || Instant::now() + DEADLINE_MARGIN >= deadline {
            return Attempt::Fail(DownstreamError::timeout(&self.name, budget));
        }
        let error = DownstreamError::new(
            DownstreamErrorKind::Connection,
            format!(
                "Could not reach API {}: {}.",
                self.name,
                describe_transport_error(e)
            ),
            true,
        );
        // A request that may have reached the API is only repeated when repeating is safe.
        if idempotent && (e.is_connect() || e.is_request() || e.is_body()) {
            Attempt::Retry(error, None)
        } else {
            Attempt::Fail(error)
        }
    }

    fn status_error(
        &self,
        status: StatusCode,
        body: &[u8],
        retry_after: Option<Duration>,
        request: &DownstreamRequest,
    ) -> DownstreamError {
        let secrets = self.credential.known_secrets();
        let secrets: Vec<&str> = secrets.iter().map(Secret::expose).collect();
        let excerpt = redact::excerpt(&String::from_utf8_lossy(body), &secrets, EXCERPT_CHARS);
        let code = status.as_u16();
        let reason = status.canonical_reason().unwrap_or("error");
        let what = match code {
            300..=399 => "redirected the request elsewhere; redirects that leave the API's base URL are not followed".to_owned(),
            400 | 422 => "refused the arguments".to_owned(),
            401 | 403 => format!(
                "refused this app's credentials ({} auth); the API's access settings need fixing, not the call",
                self.credential.kind()
            ),
            404 => "found nothing there".to_owned(),
            409 => "reported a conflict with the current state".to_owned(),
            429 => "is rate-limiting calls".to_owned(),
            500..=599 => "failed".to_owned(),
            _ => "answered with an error".to_owned(),
        };
        let mut message = format!(
            "API {} {what} (HTTP {code} {reason}) for {} {}.",
            self.name, request.method, request.route
        );
        if !excerpt.is_empty() && !(300..400).contains(&code) {
            message.push_str(&format!(" It said: {excerpt}"));
        }
        if let Some(wait) = retry_after {
            message.push_str(&format!(" It asked to retry after {} s.", wait.as_secs()));
        }
        let retryable = matches!(code, 408 | 429 | 500..=599);
        DownstreamError {
            kind: DownstreamErrorKind::Status,
            message,
            retryable,
            status: Some(code),
        }
    }
}

/// What went wrong on the wire, without the URL (which may carry ids or a key).
pub(crate) fn describe_transport_error(e: &reqwest::Error) -> String {
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    let mut innermost = None;
    while let Some(s) = source {
        innermost = Some(s.to_string());
        source = s.source();
    }
    let kind = if e.is_connect() {
        "the connection failed"
    } else if e.is_timeout() {
        "it timed out"
    } else if e.is_body() || e.is_decode() {
        "the answer broke off"
    } else if e.is_redirect() {
        "too many redirects"
    } else {
        "the request failed"
    };
    match innermost {
        Some(detail) => format!("{kind} ({})", redact::excerpt(&detail, &[], 120)),
        None => kind.to_owned(),
    }
}

/// Reads at most `cap` bytes of the body as it streams; stops reading (and drops the
/// connection) as soon as more arrive.
pub(crate) async fn read_capped(
    mut response: Response,
    cap: usize,
) -> Result<(Vec<u8>, bool), reqwest::Error> {
    let declared = response.content_length().unwrap_or(0) as usize;
    let mut body = Vec::with_capacity(declared.min(cap));
    while let Some(chunk) = response.chunk().await? {
        let room = cap - body.len();
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            return Ok((body, true));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((body, false))
}

/// The tool's view of one API: its client, or the reason it has none.
#[derive(Debug, Clone)]
pub struct ApiHandle {
    name: String,
    key: String,
    client: Option<Arc<ApiClient>>,
}

impl ApiHandle {
    pub(crate) fn new(name: &str, key: &str, client: Option<Arc<ApiClient>>) -> Self {
        Self {
            name: name.to_owned(),
            key: key.to_owned(),
            client,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn client(&self) -> Result<&Arc<ApiClient>, DownstreamError> {
        self.client
            .as_ref()
            .ok_or_else(|| DownstreamError::not_configured(&self.name, &self.key))
    }
}
