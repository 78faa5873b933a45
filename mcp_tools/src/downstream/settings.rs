//! `DOWNSTREAM__<API>__*` and the identity settings, read and checked once at start-up.
//!
//! Settings come from a lookup function rather than the process environment, so tests do not
//! mutate global state and nothing can read the environment in the middle of a call.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use url::Url;

use crate::Secret;

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The Azure front end drops a request after about 230 s; the host needs some of that.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(200);
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 1024 * 1024;
/// Larger responses cannot be useful to a model and would only cost memory.
pub const MAX_MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;
pub const DEFAULT_MAX_CONCURRENCY: usize = 16;
pub const DEFAULT_API_KEY_HEADER: &str = "x-api-key";

/// Every downstream API's settings plus the identity settings they share.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DownstreamConfig {
    /// Configured APIs by settings key (`ORDERS`); an API absent here is "not configured".
    pub apis: BTreeMap<String, ApiSettings>,
    pub identity: IdentitySettings,
}

/// Where managed-identity tokens come from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdentitySettings {
    /// `IDENTITY_ENDPOINT` + `IDENTITY_HEADER` (App Service / Functions protocol).
    pub endpoint: Option<(Url, Secret)>,
    /// `AZURE_CLIENT_ID`: the user-assigned identity to use.
    pub client_id: Option<String>,
    /// Without an endpoint (local development) tokens come from this Azure CLI program.
    pub azure_cli: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiSettings {
    pub key: String,
    pub base_url: Url,
    pub auth: AuthSettings,
    pub timeout: Duration,
    pub max_response_bytes: usize,
    pub max_concurrency: usize,
    /// Extra trusted CA certificates (PEM), beside the platform's roots.
    pub ca_pem: Option<Vec<u8>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthSettings {
    None,
    ApiKey {
        key: Secret,
        placement: KeyPlacement,
    },
    ManagedIdentity {
        audience: String,
    },
    ClientCredentials {
        token_url: Url,
        client_id: String,
        client_secret: Secret,
        scope: Option<String>,
    },
}

impl AuthSettings {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::None => "none",
            Self::ApiKey { .. } => "api_key",
            Self::ManagedIdentity { .. } => "managed_identity",
            Self::ClientCredentials { .. } => "client_credentials",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyPlacement {
    Header(String),
    Query(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DownstreamConfigError {
    #[error("setting {name} is missing: {why}")]
    Missing { name: String, why: String },
    #[error("setting {name} is invalid: {reason}")]
    Invalid { name: String, reason: String },
    #[error(
        "setting {0} is an unresolved Key Vault reference: the app's identity cannot read the \
         secret, or the reference is wrong (check the identity's Key Vault Secrets User role \
         and `keyVaultReferenceIdentity`)"
    )]
    UnresolvedKeyVaultReference(String),
}

fn invalid(name: &str, reason: impl Into<String>) -> DownstreamConfigError {
    DownstreamConfigError::Invalid {
        name: name.to_owned(),
        reason: reason.into(),
    }
}

fn missing(name: &str, why: impl Into<String>) -> DownstreamConfigError {
    DownstreamConfigError::Missing {
        name: name.to_owned(),
        why: why.into(),
    }
}

/// `DOWNSTREAM__<KEY>__BASE_URL`, the setting whose absence means "not configured".
pub fn base_url_setting(key: &str) -> String {
    format!("DOWNSTREAM__{key}__BASE_URL")
}

/// A settings key is what goes between `DOWNSTREAM__` and `__`: upper-case letters, digits
/// and single `_`.
pub fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && !key.contains("__")
        && !key.starts_with('_')
        && !key.ends_with('_')
        && key
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

impl DownstreamConfig {
    /// Reads the settings of the APIs named by `keys` (and the identity settings) through
    /// `env`. An API without `BASE_URL` and without any other setting is left unconfigured.
    pub fn from_env<'a>(
        keys: impl IntoIterator<Item = &'a str>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, DownstreamConfigError> {
        let lookup = Lookup(&env);
        let identity = IdentitySettings {
            endpoint: match (
                lookup.get("IDENTITY_ENDPOINT")?,
                lookup.get("IDENTITY_HEADER")?,
            ) {
                (Some(endpoint), Some(header)) => Some((
                    parse_url("IDENTITY_ENDPOINT", &endpoint)?,
                    Secret::new(header),
                )),
                (Some(_), None) => {
                    return Err(missing(
                        "IDENTITY_HEADER",
                        "IDENTITY_ENDPOINT is set, and the endpoint needs its header",
                    ));
                }
                _ => None,
            },
            client_id: lookup.get("AZURE_CLIENT_ID")?,
            azure_cli: PathBuf::from("az"),
        };
        let mut apis = BTreeMap::new();
        for key in keys {
            if !valid_key(key) {
                return Err(invalid(
                    &format!("DOWNSTREAM__{key}__*"),
                    "an API's settings key uses upper-case letters, digits and single '_'",
                ));
            }
            if let Some(api) = api_settings(key, &lookup)? {
                apis.insert(key.to_owned(), api);
            }
        }
        Ok(Self { apis, identity })
    }

    /// Whether some configured API takes tokens from the managed identity.
    pub fn uses_managed_identity(&self) -> bool {
        self.apis
            .values()
            .any(|a| matches!(a.auth, AuthSettings::ManagedIdentity { .. }))
    }
}

struct Lookup<'a, F>(&'a F);

impl<F: Fn(&str) -> Option<String>> Lookup<'_, F> {
    /// Empty counts as unset; an unresolved Key Vault reference is an error, not a value.
    fn get(&self, name: &str) -> Result<Option<String>, DownstreamConfigError> {
        match (self.0)(name) {
            Some(v) if v.trim_start().starts_with("@Microsoft.KeyVault(") => Err(
                DownstreamConfigError::UnresolvedKeyVaultReference(name.to_owned()),
            ),
            Some(v) if !v.trim().is_empty() => Ok(Some(v.trim().to_owned())),
            _ => Ok(None),
        }
    }

    fn require(&self, name: &str, why: &str) -> Result<String, DownstreamConfigError> {
        self.get(name)?.ok_or_else(|| missing(name, why))
    }
}

const API_SETTINGS: &[&str] = &[
    "AUTH",
    "AUDIENCE",
    "API_KEY",
    "API_KEY_HEADER",
    "API_KEY_QUERY",
    "TIMEOUT_MS",
    "MAX_RESPONSE_BYTES",
    "MAX_CONCURRENCY",
    "CA_PEM",
    "TOKEN_URL",
    "CLIENT_ID",
    "CLIENT_SECRET",
    "SCOPE",
];

fn api_settings<F: Fn(&str) -> Option<String>>(
    key: &str,
    lookup: &Lookup<'_, F>,
) -> Result<Option<ApiSettings>, DownstreamConfigError> {
    let name = |s: &str| format!("DOWNSTREAM__{key}__{s}");
    let base_name = base_url_setting(key);
    let Some(base) = lookup.get(&base_name)? else {
        for s in API_SETTINGS {
            if lookup.get(&name(s))?.is_some() {
                return Err(missing(
                    &base_name,
                    format!("{} is set, so API {key} needs a base URL", name(s)),
                ));
            }
        }
        return Ok(None);
    };
    let base_url = parse_base_url(&base_name, &base)?;

    let auth_name = name("AUTH");
    let auth = match lookup
        .require(
            &auth_name,
            "say how to authenticate to the API: managed_identity, api_key, client_credentials or none",
        )?
        .as_str()
    {
        "none" => AuthSettings::None,
        "managed_identity" => AuthSettings::ManagedIdentity {
            audience: lookup.require(
                &name("AUDIENCE"),
                "managed_identity needs the token audience (the API's application ID URI)",
            )?,
        },
        "api_key" => {
            let key_value = Secret::new(lookup.require(&name("API_KEY"), "api_key needs the key")?);
            let placement = match (
                lookup.get(&name("API_KEY_HEADER"))?,
                lookup.get(&name("API_KEY_QUERY"))?,
            ) {
                (Some(_), Some(_)) => {
                    return Err(invalid(
                        &name("API_KEY_QUERY"),
                        format!("set either {} or this, not both", name("API_KEY_HEADER")),
                    ));
                }
                (None, Some(q)) => KeyPlacement::Query(q),
                (header, None) => {
                    let header = header.unwrap_or_else(|| DEFAULT_API_KEY_HEADER.to_owned());
                    check_header_name(&name("API_KEY_HEADER"), &header)?;
                    KeyPlacement::Header(header)
                }
            };
            AuthSettings::ApiKey {
                key: key_value,
                placement,
            }
        }
        "client_credentials" => {
            let token_name = name("TOKEN_URL");
            let token_url = parse_url(
                &token_name,
                &lookup.require(&token_name, "client_credentials needs the token endpoint")?,
            )?;
            if token_url.scheme() != "https" && !is_loopback(&token_url) {
                return Err(invalid(
                    &token_name,
                    "the token endpoint must use https (http only on loopback, for testing)",
                ));
            }
            let scope = lookup.get(&name("SCOPE"))?.or_else(|| {
                lookup
                    .get(&name("AUDIENCE"))
                    .ok()
                    .flatten()
                    .map(|a| format!("{}/.default", a.trim_end_matches('/')))
            });
            AuthSettings::ClientCredentials {
                token_url,
                client_id: lookup.require(&name("CLIENT_ID"), "client_credentials needs it")?,
                client_secret: Secret::new(
                    lookup.require(&name("CLIENT_SECRET"), "client_credentials needs it")?,
                ),
                scope,
            }
        }
        other => {
            return Err(invalid(
                &auth_name,
                format!(
                    "`{other}` is not one of managed_identity, api_key, client_credentials, none"
                ),
            ));
        }
    };

    let timeout_ms = number(
        lookup,
        &name("TIMEOUT_MS"),
        1,
        MAX_TIMEOUT.as_millis() as usize,
    )?;
    Ok(Some(ApiSettings {
        key: key.to_owned(),
        base_url,
        auth,
        timeout: timeout_ms.map_or(DEFAULT_TIMEOUT, |ms| Duration::from_millis(ms as u64)),
        max_response_bytes: number(
            lookup,
            &name("MAX_RESPONSE_BYTES"),
            1024,
            MAX_MAX_RESPONSE_BYTES,
        )?
        .unwrap_or(DEFAULT_MAX_RESPONSE_BYTES),
        max_concurrency: number(lookup, &name("MAX_CONCURRENCY"), 1, 10_000)?
            .unwrap_or(DEFAULT_MAX_CONCURRENCY),
        ca_pem: ca_pem(lookup, &name("CA_PEM"))?,
    }))
}

fn number<F: Fn(&str) -> Option<String>>(
    lookup: &Lookup<'_, F>,
    name: &str,
    min: usize,
    max: usize,
) -> Result<Option<usize>, DownstreamConfigError> {
    let Some(text) = lookup.get(name)? else {
        return Ok(None);
    };
    text.parse::<usize>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .map(Some)
        .ok_or_else(|| {
            invalid(
                name,
                format!("`{text}` is not a whole number from {min} to {max}"),
            )
        })
}

/// The PEM text itself, or the path of a PEM file (read now, never during a call).
fn ca_pem<F: Fn(&str) -> Option<String>>(
    lookup: &Lookup<'_, F>,
    name: &str,
) -> Result<Option<Vec<u8>>, DownstreamConfigError> {
    let Some(value) = lookup.get(name)? else {
        return Ok(None);
    };
    // App settings cannot hold newlines comfortably; accept `\n` escapes.
    let pem = if value.starts_with("-----BEGIN") {
        value.replace("\\n", "\n").into_bytes()
    } else {
        std::fs::read(&value).map_err(|e| {
            invalid(
                name,
                format!("it is neither PEM text nor a readable file ({e})"),
            )
        })?
    };
    match reqwest::Certificate::from_pem_bundle(&pem) {
        Ok(certs) if !certs.is_empty() => Ok(Some(pem)),
        Ok(_) => Err(invalid(name, "it holds no certificate")),
        Err(_) => Err(invalid(name, "it is not valid PEM")),
    }
}

fn parse_url(name: &str, text: &str) -> Result<Url, DownstreamConfigError> {
    let url = Url::parse(text).map_err(|e| invalid(name, format!("not a URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(invalid(name, "use an http:// or https:// URL with a host"));
    }
    Ok(url)
}

fn parse_base_url(name: &str, text: &str) -> Result<Url, DownstreamConfigError> {
    let mut url = parse_url(name, text)?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            name,
            "credentials do not belong in the URL: use the AUTH settings",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid(name, "the base URL takes no query or fragment"));
    }
    // Operation paths are appended to the base path; one trailing slash is ours to manage.
    let path = url.path().trim_end_matches('/').to_owned();
    url.set_path(&path);
    Ok(url)
}

fn check_header_name(name: &str, header: &str) -> Result<(), DownstreamConfigError> {
    let parsed = reqwest::header::HeaderName::from_bytes(header.as_bytes())
        .map_err(|_| invalid(name, format!("`{header}` is not a valid header name")))?;
    if crate::downstream::request::is_reserved_header(parsed.as_str()) {
        return Err(invalid(
            name,
            format!("`{header}` is managed by the HTTP client and cannot carry the key"),
        ));
    }
    Ok(())
}

pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(vars: &[(&str, &str)]) -> Result<DownstreamConfig, DownstreamConfigError> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        DownstreamConfig::from_env(["ORDERS"], move |name| {
            vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
        })
    }

    fn error(vars: &[(&str, &str)]) -> String {
        parse(vars).err().map(|e| e.to_string()).unwrap_or_default()
    }

    const BASE: (&str, &str) = (
        "DOWNSTREAM__ORDERS__BASE_URL",
        "https://orders.internal/api/",
    );

    #[test]
    fn absent_api_is_unconfigured() {
        let c = parse(&[]).unwrap_or_default();
        assert!(c.apis.is_empty());
    }

    #[test]
    fn reads_an_api_key_api_with_defaults() {
        let c = parse(&[
            BASE,
            ("DOWNSTREAM__ORDERS__AUTH", "api_key"),
            ("DOWNSTREAM__ORDERS__API_KEY", "k-123"),
        ])
        .unwrap_or_default();
        let api = &c.apis["ORDERS"];
        assert_eq!(api.base_url.as_str(), "https://orders.internal/api");
        assert_eq!(api.timeout, DEFAULT_TIMEOUT);
        assert_eq!(api.max_response_bytes, DEFAULT_MAX_RESPONSE_BYTES);
        assert_eq!(
            api.auth,
            AuthSettings::ApiKey {
                key: Secret::new("k-123"),
                placement: KeyPlacement::Header("x-api-key".into())
            }
        );
        assert!(!format!("{c:?}").contains("k-123"));
    }

    #[test]
    fn names_missing_and_invalid_settings() {
        assert!(error(&[BASE]).starts_with("setting DOWNSTREAM__ORDERS__AUTH is missing"));
        assert!(
            error(&[BASE, ("DOWNSTREAM__ORDERS__AUTH", "managed_identity")])
                .starts_with("setting DOWNSTREAM__ORDERS__AUDIENCE is missing")
        );
        assert!(
            error(&[BASE, ("DOWNSTREAM__ORDERS__AUTH", "basic")])
                .starts_with("setting DOWNSTREAM__ORDERS__AUTH is invalid: `basic`")
        );
        assert!(
            error(&[
                BASE,
                ("DOWNSTREAM__ORDERS__AUTH", "none"),
                ("DOWNSTREAM__ORDERS__TIMEOUT_MS", "250000")
            ])
            .starts_with("setting DOWNSTREAM__ORDERS__TIMEOUT_MS is invalid")
        );
        assert!(
            error(&[("DOWNSTREAM__ORDERS__AUTH", "none")])
                .starts_with("setting DOWNSTREAM__ORDERS__BASE_URL is missing")
        );
        assert!(
            error(&[
                (
                    "DOWNSTREAM__ORDERS__BASE_URL",
                    "https://u:p@orders.internal"
                ),
                ("DOWNSTREAM__ORDERS__AUTH", "none")
            ])
            .contains("credentials do not belong in the URL")
        );
        // PEM that holds a broken certificate is refused when the client is built.
        let broken = parse(&[
            BASE,
            ("DOWNSTREAM__ORDERS__AUTH", "none"),
            (
                "DOWNSTREAM__ORDERS__CA_PEM",
                "-----BEGIN CERTIFICATE-----\\nnope\\n-----END CERTIFICATE-----",
            ),
        ])
        .unwrap_or_default();
        let built = crate::downstream::Downstream::new(&broken)
            .err()
            .map(|e| e.to_string());
        assert!(
            built
                .as_deref()
                .unwrap_or_default()
                .starts_with("setting DOWNSTREAM__ORDERS__CA_PEM is invalid"),
            "{built:?}"
        );
        assert!(
            error(&[
                BASE,
                ("DOWNSTREAM__ORDERS__AUTH", "none"),
                ("DOWNSTREAM__ORDERS__CA_PEM", "/nonexistent.pem")
            ])
            .starts_with("setting DOWNSTREAM__ORDERS__CA_PEM is invalid")
        );
        assert!(
            error(&[
                BASE,
                ("DOWNSTREAM__ORDERS__AUTH", "api_key"),
                ("DOWNSTREAM__ORDERS__API_KEY", "k"),
                ("DOWNSTREAM__ORDERS__API_KEY_HEADER", "Host")
            ])
            .contains("managed by the HTTP client")
        );
        assert!(
            error(&[("IDENTITY_ENDPOINT", "http://127.0.0.1:4141/msi/token")])
                .starts_with("setting IDENTITY_HEADER is missing")
        );
    }

    #[test]
    fn unresolved_key_vault_reference_is_named() {
        assert_eq!(
            parse(&[
                BASE,
                ("DOWNSTREAM__ORDERS__AUTH", "api_key"),
                (
                    "DOWNSTREAM__ORDERS__API_KEY",
                    "@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/k)"
                )
            ]),
            Err(DownstreamConfigError::UnresolvedKeyVaultReference(
                "DOWNSTREAM__ORDERS__API_KEY".into()
            ))
        );
    }

    #[test]
    fn client_credentials_scope_defaults_from_audience() {
        let c = parse(&[
            BASE,
            ("DOWNSTREAM__ORDERS__AUTH", "client_credentials"),
            (
                "DOWNSTREAM__ORDERS__TOKEN_URL",
                "https://login.example/t/oauth2/v2.0/token",
            ),
            ("DOWNSTREAM__ORDERS__CLIENT_ID", "cid"),
            ("DOWNSTREAM__ORDERS__CLIENT_SECRET", "cs"),
            ("DOWNSTREAM__ORDERS__AUDIENCE", "api://orders"),
        ])
        .unwrap_or_default();
        assert!(matches!(
            &c.apis["ORDERS"].auth,
            AuthSettings::ClientCredentials { scope: Some(s), .. } if s == "api://orders/.default"
        ));
        assert!(
            error(&[
                BASE,
                ("DOWNSTREAM__ORDERS__AUTH", "client_credentials"),
                (
                    "DOWNSTREAM__ORDERS__TOKEN_URL",
                    "http://login.example/token"
                ),
            ])
            .contains("must use https")
        );
    }

    #[test]
    fn keys_are_checked() {
        assert!(valid_key("ORDERS") && valid_key("HR_V2"));
        assert!(!valid_key("orders") && !valid_key("A__B") && !valid_key("_A") && !valid_key(""));
    }
}
