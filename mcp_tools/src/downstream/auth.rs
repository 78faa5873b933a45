//! Downstream credentials, explicit per API: never the inbound caller's.
//!
//! Tokens (managed identity, Azure CLI for local development, OAuth2 client credentials) are
//! cached per API, refreshed before they expire, and fetched once however many calls want a
//! fresh one at the same moment (the cache's lock is held across the fetch).

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use tokio::sync::Mutex;
use url::Url;

use super::error::{DownstreamError, DownstreamErrorKind};
use super::redact;
use super::settings::KeyPlacement;
use crate::Secret;

/// Refresh this long before expiry (less for short-lived tokens: half their lifetime).
const REFRESH_MARGIN: Duration = Duration::from_secs(300);
/// Tokens whose expiry we cannot read are kept this long.
const UNKNOWN_LIFETIME: Duration = Duration::from_secs(300);
/// A token endpoint's answer is small; anything bigger is not an answer.
const MAX_TOKEN_RESPONSE: usize = 64 * 1024;

pub(crate) enum Credential {
    None,
    ApiKey {
        key: Secret,
        placement: KeyPlacement,
    },
    Bearer(Box<TokenCache>),
}

impl Credential {
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Self::None => "none",
            Self::ApiKey { .. } => "api_key",
            Self::Bearer(cache) => cache.source.kind(),
        }
    }

    /// Values that must never appear in anything we show or log.
    pub(crate) fn known_secrets(&self) -> Vec<Secret> {
        match self {
            Self::None => Vec::new(),
            Self::ApiKey { key, .. } => vec![key.clone()],
            Self::Bearer(cache) => cache.known_secrets(),
        }
    }
}

pub(crate) enum TokenSource {
    /// App Service / Functions managed identity endpoint (`IDENTITY_ENDPOINT`).
    Identity {
        http: reqwest::Client,
        endpoint: Url,
        header: Secret,
        resource: String,
        client_id: Option<String>,
    },
    /// `az account get-access-token`: local development without an identity endpoint.
    AzureCli { program: PathBuf, resource: String },
    /// OAuth2 client credentials grant.
    ClientCredentials {
        http: reqwest::Client,
        token_url: Url,
        client_id: String,
        client_secret: Secret,
        scope: Option<String>,
    },
}

impl TokenSource {
    fn kind(&self) -> &'static str {
        match self {
            Self::Identity { .. } => "managed_identity",
            Self::AzureCli { .. } => "managed_identity (Azure CLI)",
            Self::ClientCredentials { .. } => "client_credentials",
        }
    }

    fn describe(&self) -> &'static str {
        match self {
            Self::Identity { .. } => "the managed identity endpoint",
            Self::AzureCli { .. } => "the Azure CLI (`az account get-access-token`)",
            Self::ClientCredentials { .. } => "the OAuth2 token endpoint",
        }
    }
}

struct Token {
    value: Secret,
    refresh_at: Instant,
    expires_at: Instant,
}

pub(crate) struct TokenCache {
    api: String,
    source: TokenSource,
    token: Mutex<Option<Token>>,
    /// The newest token value, readable without the lock, for redaction.
    last: std::sync::Mutex<Option<Secret>>,
    fetches: AtomicU64,
}

impl TokenCache {
    pub(crate) fn new(api: impl Into<String>, source: TokenSource) -> Self {
        Self {
            api: api.into(),
            source,
            token: Mutex::new(None),
            last: std::sync::Mutex::new(None),
            fetches: AtomicU64::new(0),
        }
    }

    /// How many times a token was fetched (tests prove caching and single flight with it).
    pub(crate) fn fetch_count(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    fn known_secrets(&self) -> Vec<Secret> {
        let mut secrets = Vec::new();
        match &self.source {
            TokenSource::Identity { header, .. } => secrets.push(header.clone()),
            TokenSource::ClientCredentials { client_secret, .. } => {
                secrets.push(client_secret.clone())
            }
            TokenSource::AzureCli { .. } => {}
        }
        if let Ok(last) = self.last.lock()
            && let Some(token) = last.as_ref()
        {
            secrets.push(token.clone());
        }
        secrets
    }

    /// A valid token, fetching one if the cached one is missing or due for refresh.
    pub(crate) async fn token(&self, deadline: Instant) -> Result<Secret, DownstreamError> {
        let timed_out = || {
            DownstreamError::new(
                DownstreamErrorKind::Credential,
                format!(
                    "Getting a token for API {} from {} took longer than the call's time.",
                    self.api,
                    self.source.describe()
                ),
                true,
            )
        };
        let mut slot = tokio::time::timeout_at(deadline.into(), self.token.lock())
            .await
            .map_err(|_| timed_out())?;
        let now = Instant::now();
        if let Some(token) = slot.as_ref()
            && now < token.refresh_at
        {
            return Ok(token.value.clone());
        }
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let fetched = match tokio::time::timeout_at(deadline.into(), self.fetch()).await {
            Ok(result) => result,
            Err(_) => Err(timed_out()),
        };
        match fetched {
            Ok(token) => {
                tracing::debug!(api = %self.api, source = self.source.kind(), "fetched a token");
                let value = token.value.clone();
                if let Ok(mut last) = self.last.lock() {
                    *last = Some(value.clone());
                }
                *slot = Some(token);
                Ok(value)
            }
            // A refresh that fails early is no reason to fail calls the old token still serves.
            Err(e) => match slot.as_ref() {
                Some(old) if Instant::now() < old.expires_at => {
                    tracing::warn!(api = %self.api, retryable = e.retryable, "token refresh failed; using the cached token");
                    Ok(old.value.clone())
                }
                _ => Err(e),
            },
        }
    }

    /// Forgets `rejected` (the API said 401 to it) so the next call fetches a new one.
    pub(crate) async fn invalidate(&self, rejected: &Secret) {
        let mut slot = self.token.lock().await;
        if slot.as_ref().is_some_and(|t| &t.value == rejected) {
            *slot = None;
        }
    }

    async fn fetch(&self) -> Result<Token, DownstreamError> {
        match &self.source {
            TokenSource::Identity {
                http,
                endpoint,
                header,
                resource,
                client_id,
            } => {
                let mut url = endpoint.clone();
                url.query_pairs_mut()
                    .append_pair("resource", resource)
                    .append_pair("api-version", "2019-08-01");
                if let Some(id) = client_id {
                    url.query_pairs_mut().append_pair("client_id", id);
                }
                let request = http
                    .get(url)
                    .header("X-IDENTITY-HEADER", header.expose())
                    .header("Metadata", "true");
                self.token_from_http(request).await
            }
            TokenSource::ClientCredentials {
                http,
                token_url,
                client_id,
                client_secret,
                scope,
            } => {
                let body = {
                    let mut form = url::form_urlencoded::Serializer::new(String::new());
                    form.append_pair("grant_type", "client_credentials")
                        .append_pair("client_id", client_id)
                        .append_pair("client_secret", client_secret.expose());
                    if let Some(scope) = scope {
                        form.append_pair("scope", scope);
                    }
                    form.finish()
                };
                let request = http
                    .post(token_url.clone())
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .body(body);
                self.token_from_http(request).await
            }
            TokenSource::AzureCli { program, resource } => {
                self.token_from_cli(program, resource).await
            }
        }
    }

    fn failure(&self, detail: impl std::fmt::Display, retryable: bool) -> DownstreamError {
        DownstreamError::new(
            DownstreamErrorKind::Credential,
            format!(
                "Could not get a token for API {} from {}: {detail}",
                self.api,
                self.source.describe()
            ),
            retryable,
        )
    }

    async fn token_from_http(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<Token, DownstreamError> {
        let response = request
            .send()
            .await
            .map_err(|e| self.failure(super::client::describe_transport_error(&e), true))?;
        let status = response.status();
        let (body, _) = super::client::read_capped(response, MAX_TOKEN_RESPONSE)
            .await
            .map_err(|e| self.failure(super::client::describe_transport_error(&e), true))?;
        let text = String::from_utf8_lossy(&body);
        if !status.is_success() {
            let secrets = self.known_secrets();
            let secrets: Vec<&str> = secrets.iter().map(Secret::expose).collect();
            return Err(self.failure(
                format!(
                    "HTTP {}: {}",
                    status.as_u16(),
                    redact::excerpt(&text, &secrets, 300)
                ),
                status.is_server_error() || status.as_u16() == 429,
            ));
        }
        let json: Value = serde_json::from_str(&text)
            .map_err(|_| self.failure("the answer is not JSON", false))?;
        parse_token(&json).ok_or_else(|| self.failure("the answer holds no access_token", false))
    }

    async fn token_from_cli(
        &self,
        program: &PathBuf,
        resource: &str,
    ) -> Result<Token, DownstreamError> {
        static SAID: std::sync::Once = std::sync::Once::new();
        SAID.call_once(|| {
            tracing::warn!(
                "IDENTITY_ENDPOINT is not set: managed_identity tokens come from the Azure CLI \
                 (`az account get-access-token`), for local development"
            );
        });
        let output = tokio::process::Command::new(program)
            .args(["account", "get-access-token", "--resource", resource, "-o", "json"])
            .kill_on_drop(true)
            .stdin(std::process::Stdio::null())
            .output()
            .await
            .map_err(|e| {
                self.failure(
                    format!(
                        "there is no IDENTITY_ENDPOINT here and `{}` could not be run ({e}); \
                         install the Azure CLI and run `az login`, or run where the managed identity is",
                        program.display()
                    ),
                    false,
                )
            })?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            return Err(self.failure(
                format!(
                    "`az account get-access-token` failed (run `az login`?): {}",
                    redact::excerpt(&stderr, &[], 300)
                ),
                false,
            ));
        }
        let json: Value = serde_json::from_slice(&output.stdout)
            .map_err(|_| self.failure("the CLI's answer is not JSON", false))?;
        parse_token(&json)
            .ok_or_else(|| self.failure("the CLI's answer holds no accessToken", false))
    }
}

/// `access_token` (endpoints) or `accessToken` (CLI), with the expiry from `expires_on`
/// (epoch seconds, a number or a string) or `expires_in` (seconds from now).
fn parse_token(json: &Value) -> Option<Token> {
    let value = json
        .get("access_token")
        .or_else(|| json.get("accessToken"))
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())?;
    let number = |key: &str| -> Option<u64> {
        match json.get(key)? {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    };
    let lifetime = if let Some(on) = number("expires_on") {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Duration::from_secs(on.saturating_sub(now))
    } else if let Some(secs) = number("expires_in") {
        Duration::from_secs(secs)
    } else {
        UNKNOWN_LIFETIME
    };
    let now = Instant::now();
    let margin = REFRESH_MARGIN.min(lifetime / 2);
    Some(Token {
        value: Secret::new(value),
        refresh_at: now + lifetime.saturating_sub(margin),
        expires_at: now + lifetime,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_expiry_in_every_shape() {
        let in_an_hour = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
            + 3600;
        for body in [
            json!({"access_token": "t", "expires_on": in_an_hour.to_string()}),
            json!({"access_token": "t", "expires_on": in_an_hour}),
            json!({"access_token": "t", "expires_in": "3600"}),
            json!({"accessToken": "t", "expires_on": in_an_hour, "expiresOn": "2030-01-01 00:00:00.000000"}),
        ] {
            let token = parse_token(&body).unwrap_or_else(|| panic!("{body}"));
            let left = token.expires_at.saturating_duration_since(Instant::now());
            assert!(left > Duration::from_secs(3590), "{body}");
            let refresh = token.refresh_at.saturating_duration_since(Instant::now());
            assert!(refresh <= Duration::from_secs(3300) && refresh > Duration::from_secs(3290));
        }
        assert!(parse_token(&json!({"error": "x"})).is_none());
    }
}
