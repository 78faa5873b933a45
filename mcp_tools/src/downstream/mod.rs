//! The downstream HTTP layer: one pooled client (HTTP/2 where offered, rustls with the
//! platform's roots) shared by every internal API the tools call, with per-API settings,
//! credentials and limits.
//!
//! - [`settings`]: `DOWNSTREAM__<API>__*` and the identity settings, checked at start-up.
//! - [`client`]: [`ApiClient`]: deadline, bulkhead, retries, size-capped streaming reads.
//! - [`auth`]: per-API credentials (managed identity, API key, client credentials) and the
//!   token cache. Never the inbound caller's credentials: a tool has no access to them.
//! - [`request`]: [`DownstreamRequest`] and the URL rules that keep calls on the base URL.
//! - [`guard`]: no link-local or metadata addresses, no redirects off the origin.
//! - [`output`]: a downstream answer as a tool result (JSON, text, image, or a description).
//! - [`retry`]: which failures are retried and the jittered backoff.
//! - [`redact`]: excerpts of error bodies with anything secret-looking removed.
//! - [`error`]: [`DownstreamError`], which becomes an `isError` result.

mod auth;
pub mod client;
pub mod error;
pub mod guard;
pub mod output;
pub mod redact;
pub mod request;
pub mod retry;
pub mod settings;

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

pub use client::{ApiClient, ApiHandle, DownstreamResponse};
pub use error::{DownstreamError, DownstreamErrorKind};
pub use request::DownstreamRequest;
pub use settings::{
    ApiSettings, AuthSettings, DownstreamConfig, DownstreamConfigError, IdentitySettings,
    KeyPlacement,
};

use auth::{Credential, TokenCache, TokenSource};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const TOKEN_TIMEOUT: Duration = Duration::from_secs(30);

/// The clients of every configured API, built once at start-up.
#[derive(Debug, Default)]
pub struct Downstream {
    apis: HashMap<String, Arc<ApiClient>>,
}

impl Downstream {
    pub fn new(config: &DownstreamConfig) -> Result<Self, DownstreamConfigError> {
        if config.apis.is_empty() {
            return Ok(Self::default());
        }
        let shared = api_http(None).map_err(|e| client_error("DOWNSTREAM__*", e))?;
        let token_http = token_http().map_err(|e| client_error("DOWNSTREAM__*", e))?;
        let mut apis = HashMap::new();
        for (key, api) in &config.apis {
            let http = match &api.ca_pem {
                None => shared.clone(),
                Some(pem) => api_http(Some(pem))
                    .map_err(|e| client_error(&format!("DOWNSTREAM__{key}__CA_PEM"), e))?,
            };
            let name = key.to_ascii_lowercase();
            let credential = credential(config, api, &name, &token_http);
            apis.insert(
                key.clone(),
                Arc::new(ApiClient {
                    name,
                    key: key.clone(),
                    base_url: api.base_url.clone(),
                    http,
                    credential,
                    timeout: api.timeout,
                    max_response_bytes: api.max_response_bytes,
                    max_concurrency: api.max_concurrency,
                    bulkhead: Semaphore::new(api.max_concurrency),
                }),
            );
        }
        Ok(Self { apis })
    }

    /// The handle tools of API `name` (settings key `key`) call through; a call on an
    /// unconfigured API answers "API … is not configured".
    pub fn api(&self, name: &str, key: &str) -> ApiHandle {
        ApiHandle::new(name, key, self.apis.get(key).cloned())
    }

    /// How many tokens the API's cache has fetched (tests: caching and single flight).
    pub fn token_fetches(&self, key: &str) -> u64 {
        match self.apis.get(key).map(|a| &a.credential) {
            Some(Credential::Bearer(cache)) => cache.fetch_count(),
            _ => 0,
        }
    }
}

/// Where the W3C `traceparent` of the current span comes from. The process's telemetry sets
/// it once (this crate stays free of OpenTelemetry); without it, calls forward the caller's
/// `traceparent` from the [`crate::ToolContext`].
static TRACE_CONTEXT: OnceLock<fn() -> Option<String>> = OnceLock::new();

/// Installs the source of the current span's `traceparent`, sent on every downstream call so
/// the API's telemetry continues the trace under the call's own span. Only the first call
/// has an effect.
pub fn set_trace_context_source(source: fn() -> Option<String>) {
    let _ = TRACE_CONTEXT.set(source);
}

pub(crate) fn current_traceparent() -> Option<String> {
    TRACE_CONTEXT.get().and_then(|source| source())
}

/// A managed-identity token for some resource other than a downstream API (the handler's
/// telemetry ingestion uses it), from the same sources as the APIs' tokens: the identity
/// endpoint (`IDENTITY_ENDPOINT`), else the Azure CLI; cached, refreshed before expiry, and
/// fetched once however many callers want it at the same moment.
pub struct IdentityToken {
    cache: TokenCache,
}

impl std::fmt::Debug for IdentityToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityToken").finish_non_exhaustive()
    }
}

impl IdentityToken {
    /// `name` names the token's user in messages; `client_id` selects a user-assigned identity
    /// (`None`: the identity settings' `AZURE_CLIENT_ID`, else the system-assigned one).
    pub fn new(
        name: &str,
        identity: &IdentitySettings,
        resource: &str,
        client_id: Option<String>,
    ) -> Result<Self, DownstreamConfigError> {
        let client_id = client_id.or_else(|| identity.client_id.clone());
        let source = match &identity.endpoint {
            Some((endpoint, header)) => TokenSource::Identity {
                http: token_http().map_err(|e| client_error("IDENTITY_ENDPOINT", e))?,
                endpoint: endpoint.clone(),
                header: header.clone(),
                resource: resource.to_owned(),
                client_id,
            },
            None => TokenSource::AzureCli {
                program: identity.azure_cli.clone(),
                resource: resource.to_owned(),
            },
        };
        Ok(Self {
            cache: TokenCache::new(name, source),
        })
    }

    /// A valid token, fetched if the cached one is missing or due for refresh.
    pub async fn token(&self, deadline: Instant) -> Result<crate::Secret, DownstreamError> {
        self.cache.token(deadline).await
    }

    /// Forgets `rejected` (its audience answered 401) so the next caller fetches a new one.
    pub async fn invalidate(&self, rejected: &crate::Secret) {
        self.cache.invalidate(rejected).await;
    }
}

fn credential(
    config: &DownstreamConfig,
    api: &ApiSettings,
    name: &str,
    token_http: &reqwest::Client,
) -> Credential {
    match &api.auth {
        AuthSettings::None => Credential::None,
        AuthSettings::ApiKey { key, placement } => Credential::ApiKey {
            key: key.clone(),
            placement: placement.clone(),
        },
        AuthSettings::ManagedIdentity { audience } => {
            let source = match &config.identity.endpoint {
                Some((endpoint, header)) => TokenSource::Identity {
                    http: token_http.clone(),
                    endpoint: endpoint.clone(),
                    header: header.clone(),
                    resource: audience.clone(),
                    client_id: config.identity.client_id.clone(),
                },
                None => TokenSource::AzureCli {
                    program: config.identity.azure_cli.clone(),
                    resource: audience.clone(),
                },
            };
            Credential::Bearer(Box::new(TokenCache::new(name, source)))
        }
        AuthSettings::ClientCredentials {
            token_url,
            client_id,
            client_secret,
            scope,
        } => Credential::Bearer(Box::new(TokenCache::new(
            name,
            TokenSource::ClientCredentials {
                http: token_http.clone(),
                token_url: token_url.clone(),
                client_id: client_id.clone(),
                client_secret: client_secret.clone(),
                scope: scope.clone(),
            },
        ))),
    }
}

fn client_error(name: &str, e: reqwest::Error) -> DownstreamConfigError {
    DownstreamConfigError::Invalid {
        name: name.to_owned(),
        reason: format!("the HTTP client could not be built ({e})"),
    }
}

fn api_http(ca_pem: Option<&[u8]>) -> Result<reqwest::Client, reqwest::Error> {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .pool_idle_timeout(Duration::from_secs(90))
        .tcp_nodelay(true)
        .redirect(guard::redirect_policy())
        .dns_resolver(Arc::new(guard::GuardedResolver))
        .user_agent(concat!("mcp_tools/", env!("CARGO_PKG_VERSION")));
    if let Some(pem) = ca_pem {
        builder = builder.tls_certs_merge(reqwest::Certificate::from_pem_bundle(pem)?);
    }
    builder.build()
}

/// Token endpoints: the identity endpoint is itself a link-local address on App Service,
/// so this client skips the guarded resolver; it never follows redirects.
fn token_http() -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(TOKEN_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("mcp_tools/", env!("CARGO_PKG_VERSION")))
        .build()
}
