//! The command line and the settings, read and checked once at start-up.
//!
//! Modes (architecture.md): with no subcommand the handler serves the custom-handler protocol
//! when the host has set `FUNCTIONS_CUSTOMHANDLER_PORT`; `functions --out DIR` writes the
//! function folders.

use std::ffi::OsString;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

pub const USAGE: &str = "\
Usage:
  handler                     under the Functions host (FUNCTIONS_CUSTOMHANDLER_PORT set): serve
                              the tools to the host; otherwise the same as `handler serve`
  handler serve [--port N] [--bind ADDR] [--insecure-no-auth] [--conformance-tools]
                              serve the tools as an MCP server of our own (streamable HTTP) at
                              http://ADDR:N/runtime/webhooks/mcp and /mcp (default 127.0.0.1:7071);
                              --conformance-tools adds the MCP conformance suite's fixture tools
  handler functions --out DIR write one function folder per tool (<tool>/function.json) into DIR
  handler --help              this text

Settings (environment):
  FUNCTIONS_CUSTOMHANDLER_PORT  set by the Functions host: the port to serve it on (127.0.0.1)
  HANDLER_CALL_TIMEOUT_MS       time a tool call may take, 1..=200000 ms (default 30000)
  MCP_EXTENSION_KEY             serve: the key clients must send (x-functions-key or ?code=)
  MCP_ALLOWED_HOSTS             serve: extra allowed Host values, comma-separated
  WEBSITE_HOSTNAME              serve: added to the allowed hosts (set by App Service)
  SNIPPETS_DIR                  serve: folder behind the snippet bindings (default .snippets)
  RUST_LOG                      console log filter, e.g. `info` or `handler=debug` (default
                              `info`; `warn` while exporting telemetry)
  LOG_FORMAT                    console log format: `compact` (default) or `json`
  APPLICATIONINSIGHTS_CONNECTION_STRING
                              export traces and metrics to Application Insights
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING
                              `Authorization=AAD[;ClientId=<id>]`: Entra-authenticated ingestion
                              with the managed identity
  APPLICATIONINSIGHTS_EXTRA_CA_PEM
                              PEM file of extra CAs trusted by the telemetry exporter
  OTEL_FILTER                   filter of what is exported (default `info,rmcp=warn`)
  OTEL_METRIC_EXPORT_INTERVAL   metric export interval in ms (default 60000)
  TELEMETRY_RECORD_ARGUMENT_NAMES
                              `true`: record the names (never the values) of a call's arguments
  WEBSITE_SITE_NAME             the app's name (set by App Service): role `<name>-handler`
";

/// Secrets never print; the same type guards downstream keys and tokens.
pub use mcp_tools::secret::Secret;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Serve the custom-handler protocol to the Functions host.
    Invocations(InvocationSettings),
    /// Serve the tools as an MCP server of our own.
    Serve(ServeConfig),
    /// Write the function folders for every tool.
    Functions {
        out: PathBuf,
    },
    Help,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvocationSettings {
    pub port: u16,
    pub call_timeout: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeConfig {
    pub addr: SocketAddr,
    pub insecure_no_auth: bool,
    /// Also serve the conformance suite's fixture tools (tests/interop only).
    pub conformance_tools: bool,
    pub key: Option<Secret>,
    pub allowed_hosts: Vec<String>,
    pub snippets_dir: PathBuf,
    pub call_timeout: Duration,
}

/// How the process logs and what it exports (issue 6); read in every serving mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelemetryConfig {
    /// `APPLICATIONINSIGHTS_CONNECTION_STRING`: it holds the instrumentation key, so it is a
    /// secret. `None`: no exporter is started.
    pub connection_string: Option<Secret>,
    pub ingestion_auth: IngestionAuth,
    pub log_format: LogFormat,
    /// `RUST_LOG`; `None`: the default for the mode.
    pub console_filter: Option<String>,
    /// `OTEL_FILTER`: what the exporter sees, independent of the console.
    pub export_filter: String,
    /// `APPLICATIONINSIGHTS_EXTRA_CA_PEM`, read at start-up.
    pub extra_ca_pem: Option<Vec<u8>>,
    pub metric_interval: Duration,
    /// The cloud role: `<WEBSITE_SITE_NAME or server name>-handler`, distinct from the host's
    /// role so the two never count the same call.
    pub role_name: String,
    pub record_argument_names: bool,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        Self {
            connection_string: None,
            ingestion_auth: IngestionAuth::InstrumentationKey,
            log_format: LogFormat::Compact,
            console_filter: None,
            export_filter: DEFAULT_EXPORT_FILTER.to_owned(),
            extra_ca_pem: None,
            metric_interval: DEFAULT_METRIC_INTERVAL,
            role_name: format!("{}-handler", crate::server_identity::NAME),
            record_argument_names: false,
        }
    }
}

/// rmcp's own spans would arrive as an in-process dependency on every self-hosted call.
pub const DEFAULT_EXPORT_FILTER: &str = "info,rmcp=warn";
pub const DEFAULT_METRIC_INTERVAL: Duration = Duration::from_secs(60);

/// How telemetry is authenticated at the ingestion endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IngestionAuth {
    /// The instrumentation key alone (local authentication).
    InstrumentationKey,
    /// `Authorization=AAD`: a managed-identity bearer token; `client_id` picks a
    /// user-assigned identity.
    Entra { client_id: Option<String> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Compact,
    Json,
}

/// Reads the telemetry settings. A bad value stops the start with a message naming the
/// setting, never quoting a secret one.
pub fn telemetry(env: impl Fn(&str) -> Option<String>) -> Result<TelemetryConfig, ConfigError> {
    let env = &env;
    let connection_string = setting(env, "APPLICATIONINSIGHTS_CONNECTION_STRING")?;
    if let Some(cs) = &connection_string {
        let has_key = cs.split(';').any(|part| {
            part.split_once('=').is_some_and(|(k, v)| {
                k.trim().eq_ignore_ascii_case("InstrumentationKey") && !v.trim().is_empty()
            })
        });
        if !has_key {
            return Err(ConfigError::Invalid {
                name: "APPLICATIONINSIGHTS_CONNECTION_STRING",
                reason: "it holds no `InstrumentationKey=`: copy the connection string from \
                         the Application Insights resource"
                    .to_owned(),
            });
        }
    }
    let ingestion_auth = match setting(env, "APPLICATIONINSIGHTS_AUTHENTICATION_STRING")? {
        None => IngestionAuth::InstrumentationKey,
        Some(text) => parse_authentication_string(&text)?,
    };
    let log_format = match setting(env, "LOG_FORMAT")?.map(|v| v.trim().to_ascii_lowercase()) {
        None => LogFormat::Compact,
        Some(v) if v == "compact" || v == "text" => LogFormat::Compact,
        Some(v) if v == "json" => LogFormat::Json,
        Some(v) => {
            return Err(ConfigError::Invalid {
                name: "LOG_FORMAT",
                reason: format!("`{v}` is neither `compact` nor `json`"),
            });
        }
    };
    let extra_ca_pem = match setting(env, "APPLICATIONINSIGHTS_EXTRA_CA_PEM")? {
        None => None,
        Some(path) => Some(
            std::fs::read(path.trim()).map_err(|e| ConfigError::Invalid {
                name: "APPLICATIONINSIGHTS_EXTRA_CA_PEM",
                reason: format!("the file `{}` cannot be read ({e})", path.trim()),
            })?,
        ),
    };
    let metric_interval = match setting(env, "OTEL_METRIC_EXPORT_INTERVAL")? {
        None => DEFAULT_METRIC_INTERVAL,
        Some(ms) => ms
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|ms| (100..=3_600_000).contains(ms))
            .map(Duration::from_millis)
            .ok_or_else(|| ConfigError::Invalid {
                name: "OTEL_METRIC_EXPORT_INTERVAL",
                reason: format!("`{ms}` is not a number of milliseconds from 100 to 3600000"),
            })?,
    };
    let record_argument_names = match setting(env, "TELEMETRY_RECORD_ARGUMENT_NAMES")? {
        None => false,
        Some(v) => match v.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => true,
            "false" | "0" | "no" => false,
            _ => {
                return Err(ConfigError::Invalid {
                    name: "TELEMETRY_RECORD_ARGUMENT_NAMES",
                    reason: format!("`{v}` is neither `true` nor `false`"),
                });
            }
        },
    };
    let export_filter =
        setting(env, "OTEL_FILTER")?.unwrap_or_else(|| DEFAULT_EXPORT_FILTER.to_owned());
    if let Err(e) = tracing_subscriber::EnvFilter::try_new(&export_filter) {
        return Err(ConfigError::Invalid {
            name: "OTEL_FILTER",
            reason: format!("`{export_filter}` is not a filter like `info,handler=debug` ({e})"),
        });
    }
    let site = setting(env, "WEBSITE_SITE_NAME")?;
    let role_name = format!(
        "{}-handler",
        site.as_deref()
            .map(str::trim)
            .unwrap_or(crate::server_identity::NAME)
    );
    Ok(TelemetryConfig {
        connection_string: connection_string.map(Secret::new),
        ingestion_auth,
        log_format,
        console_filter: setting(env, "RUST_LOG")?,
        export_filter,
        extra_ca_pem,
        metric_interval,
        role_name,
        record_argument_names,
    })
}

/// `Authorization=AAD` with an optional `ClientId=<guid>` (the form App Service documents).
fn parse_authentication_string(text: &str) -> Result<IngestionAuth, ConfigError> {
    let mut aad = false;
    let mut client_id = None;
    for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        match part.split_once('=').map(|(k, v)| (k.trim(), v.trim())) {
            Some((k, v)) if k.eq_ignore_ascii_case("Authorization") => {
                aad = v.eq_ignore_ascii_case("AAD");
            }
            Some((k, v)) if k.eq_ignore_ascii_case("ClientId") && !v.is_empty() => {
                client_id = Some(v.to_owned());
            }
            _ => {}
        }
    }
    if aad {
        Ok(IngestionAuth::Entra { client_id })
    } else {
        Err(ConfigError::Invalid {
            name: "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
            reason: "expected `Authorization=AAD`, optionally with `;ClientId=<client id>`"
                .to_owned(),
        })
    }
}

/// The self-hosted port when neither `--port` nor the host's port is given: the port
/// `func start` uses, so client configurations work with either.
pub const DEFAULT_SERVE_PORT: u16 = 7071;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("{0}\n\n{USAGE}")]
    Usage(String),
    #[error(
        "FUNCTIONS_CUSTOMHANDLER_PORT is not set: this mode runs under the Functions host \
         (`func start`, or Azure). To write the function folders, run `handler functions --out DIR`."
    )]
    NoHostPort,
    #[error("setting {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
    #[error(
        "setting {0} is an unresolved Key Vault reference: the app's identity cannot read the \
         secret, or the reference is wrong (check the identity's Key Vault Secrets User role \
         and `keyVaultReferenceIdentity`)"
    )]
    UnresolvedKeyVaultReference(&'static str),
}

/// Parses the command line against an environment lookup (so tests need not touch the
/// process environment).
pub fn parse(
    args: impl IntoIterator<Item = OsString>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Command, ConfigError> {
    let args: Vec<String> = args
        .into_iter()
        .map(|a| {
            a.into_string()
                .map_err(|a| ConfigError::Usage(format!("argument {a:?} is not UTF-8")))
        })
        .collect::<Result<_, _>>()?;
    match args.first().map(String::as_str) {
        None if setting(&env, "FUNCTIONS_CUSTOMHANDLER_PORT")?.is_some() => {
            invocation_settings(&env).map(Command::Invocations)
        }
        None => serve_config(&[], &env).map(Command::Serve),
        Some("serve") => serve_config(&args[1..], &env).map(Command::Serve),
        Some("-h" | "--help" | "help") => Ok(Command::Help),
        Some("functions") => match &args[1..] {
            [flag, dir] if flag == "--out" => Ok(Command::Functions {
                out: PathBuf::from(dir),
            }),
            [flag] if flag.starts_with("--out=") => Ok(Command::Functions {
                out: PathBuf::from(&flag["--out=".len()..]),
            }),
            _ => Err(ConfigError::Usage(
                "`functions` needs `--out DIR`".to_owned(),
            )),
        },
        Some(other) => Err(ConfigError::Usage(format!("unknown command `{other}`"))),
    }
}

fn serve_config(
    args: &[String],
    env: &impl Fn(&str) -> Option<String>,
) -> Result<ServeConfig, ConfigError> {
    let mut port = None;
    let mut bind = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let mut insecure_no_auth = false;
    let mut conformance_tools = false;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) => (f, Some(v.to_owned())),
            None => (arg.as_str(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| rest.next().cloned())
                .ok_or_else(|| ConfigError::Usage(format!("`{name}` needs a value")))
        };
        match flag {
            "--port" => {
                let v = value("--port")?;
                port = Some(parse_port(&v).ok_or_else(|| {
                    ConfigError::Usage(format!("`--port {v}` is not a port number (1-65535)"))
                })?);
            }
            "--bind" => {
                let v = value("--bind")?;
                bind = v.parse().map_err(|_| {
                    ConfigError::Usage(format!("`--bind {v}` is not an IP address"))
                })?;
            }
            "--insecure-no-auth" => insecure_no_auth = true,
            "--conformance-tools" => conformance_tools = true,
            other => {
                return Err(ConfigError::Usage(format!(
                    "unknown option `{other}` for serve"
                )));
            }
        }
    }
    let port = match port {
        Some(p) => p,
        None => match setting(env, "FUNCTIONS_CUSTOMHANDLER_PORT")? {
            Some(p) => parse_port(&p).ok_or_else(|| ConfigError::Invalid {
                name: "FUNCTIONS_CUSTOMHANDLER_PORT",
                reason: format!("`{p}` is not a port number (1-65535)"),
            })?,
            None => DEFAULT_SERVE_PORT,
        },
    };
    let mut allowed_hosts: Vec<String> = setting(env, "MCP_ALLOWED_HOSTS")?
        .map(|v| {
            v.split(',')
                .map(|h| h.trim().to_owned())
                .filter(|h| !h.is_empty())
                .collect()
        })
        .unwrap_or_default();
    if let Some(site) = setting(env, "WEBSITE_HOSTNAME")? {
        allowed_hosts.push(site.trim().to_owned());
    }
    Ok(ServeConfig {
        addr: SocketAddr::new(bind, port),
        insecure_no_auth,
        conformance_tools,
        key: setting(env, "MCP_EXTENSION_KEY")?.map(Secret::new),
        allowed_hosts,
        snippets_dir: setting(env, "SNIPPETS_DIR")?
            .map_or_else(|| PathBuf::from(".snippets"), PathBuf::from),
        call_timeout: call_timeout(env)?,
    })
}

fn parse_port(text: &str) -> Option<u16> {
    text.trim().parse::<u16>().ok().filter(|p| *p != 0)
}

fn invocation_settings(
    env: &impl Fn(&str) -> Option<String>,
) -> Result<InvocationSettings, ConfigError> {
    let port = setting(env, "FUNCTIONS_CUSTOMHANDLER_PORT")?.ok_or(ConfigError::NoHostPort)?;
    let port = parse_port(&port).ok_or_else(|| ConfigError::Invalid {
        name: "FUNCTIONS_CUSTOMHANDLER_PORT",
        reason: format!("`{port}` is not a port number (1-65535)"),
    })?;
    Ok(InvocationSettings {
        port,
        call_timeout: call_timeout(env)?,
    })
}

fn call_timeout(env: &impl Fn(&str) -> Option<String>) -> Result<Duration, ConfigError> {
    Ok(match setting(env, "HANDLER_CALL_TIMEOUT_MS")? {
        None => mcp_tools::context::DEFAULT_CALL_TIMEOUT,
        Some(ms) => ms
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|ms| (1..=200_000).contains(ms))
            .map(Duration::from_millis)
            .ok_or_else(|| ConfigError::Invalid {
                name: "HANDLER_CALL_TIMEOUT_MS",
                reason: format!(
                    "`{ms}` is not a whole number of milliseconds from 1 to 200000 \
                     (the Azure front end drops requests after about 230 s)"
                ),
            })?,
    })
}

/// A setting's value; empty counts as unset, and an unresolved Key Vault reference is an
/// error rather than a value.
fn setting(
    env: &impl Fn(&str) -> Option<String>,
    name: &'static str,
) -> Result<Option<String>, ConfigError> {
    match env(name) {
        Some(v) if v.trim_start().starts_with("@Microsoft.KeyVault(") => {
            Err(ConfigError::UnresolvedKeyVaultReference(name))
        }
        Some(v) if !v.trim().is_empty() => Ok(Some(v)),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_with(args: &[&str], vars: &[(&str, &str)]) -> Result<Command, ConfigError> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        parse(args.iter().map(OsString::from), |name| {
            vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn no_subcommand_under_the_host_serves_invocations() {
        assert_eq!(
            parse_with(&[], &[("FUNCTIONS_CUSTOMHANDLER_PORT", "40001")]),
            Ok(Command::Invocations(InvocationSettings {
                port: 40001,
                call_timeout: Duration::from_secs(30)
            }))
        );
    }

    #[test]
    fn no_subcommand_outside_the_host_serves_on_loopback_7071() {
        let Ok(Command::Serve(c)) = parse_with(&[], &[]) else {
            panic!("expected serve");
        };
        assert_eq!(c.addr, "127.0.0.1:7071".parse().unwrap_or(c.addr));
        assert_eq!(c.key, None);
        assert_eq!(c.snippets_dir, PathBuf::from(".snippets"));
    }

    #[test]
    fn serve_flags_and_settings() {
        let Ok(Command::Serve(c)) = parse_with(
            &[
                "serve",
                "--port",
                "8080",
                "--bind=0.0.0.0",
                "--insecure-no-auth",
            ],
            &[
                ("MCP_EXTENSION_KEY", "k"),
                ("MCP_ALLOWED_HOSTS", "a.example, b.example"),
                ("WEBSITE_HOSTNAME", "app.azurewebsites.net"),
                ("FUNCTIONS_CUSTOMHANDLER_PORT", "9000"),
            ],
        ) else {
            panic!("expected serve");
        };
        assert_eq!(c.addr.to_string(), "0.0.0.0:8080");
        assert!(c.insecure_no_auth);
        assert!(!c.conformance_tools);
        assert_eq!(c.key, Some(Secret::new("k")));
        assert_eq!(
            c.allowed_hosts,
            ["a.example", "b.example", "app.azurewebsites.net"]
        );
        // Model B: the host passes its port and `serve`.
        let Ok(Command::Serve(c)) =
            parse_with(&["serve"], &[("FUNCTIONS_CUSTOMHANDLER_PORT", "9000")])
        else {
            panic!("expected serve");
        };
        assert_eq!(c.addr.port(), 9000);
        let Ok(Command::Serve(c)) = parse_with(&["serve", "--conformance-tools"], &[]) else {
            panic!("expected serve");
        };
        assert!(c.conformance_tools);
        assert!(matches!(
            parse_with(&["serve", "--port"], &[]),
            Err(ConfigError::Usage(_))
        ));
        assert!(matches!(
            parse_with(&["serve", "--nope"], &[]),
            Err(ConfigError::Usage(_))
        ));
    }

    #[test]
    fn bad_settings_are_named() {
        let e = parse_with(&[], &[("FUNCTIONS_CUSTOMHANDLER_PORT", "http")]);
        assert!(matches!(
            e,
            Err(ConfigError::Invalid {
                name: "FUNCTIONS_CUSTOMHANDLER_PORT",
                ..
            })
        ));
        let e = parse_with(
            &[],
            &[
                ("FUNCTIONS_CUSTOMHANDLER_PORT", "1"),
                ("HANDLER_CALL_TIMEOUT_MS", "300000"),
            ],
        );
        assert!(matches!(
            e,
            Err(ConfigError::Invalid {
                name: "HANDLER_CALL_TIMEOUT_MS",
                ..
            })
        ));
    }

    #[test]
    fn unresolved_key_vault_reference_is_an_error() {
        let e = parse_with(
            &[],
            &[(
                "FUNCTIONS_CUSTOMHANDLER_PORT",
                "@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/x)",
            )],
        );
        assert_eq!(
            e,
            Err(ConfigError::UnresolvedKeyVaultReference(
                "FUNCTIONS_CUSTOMHANDLER_PORT"
            ))
        );
    }

    #[test]
    fn telemetry_settings() {
        let get = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                vars.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        let none = telemetry(get(&[])).unwrap_or_default();
        assert_eq!(none, TelemetryConfig::default());
        assert_eq!(none.role_name, "rust-mcp-functions-handler");
        let full = telemetry(get(&[
            (
                "APPLICATIONINSIGHTS_CONNECTION_STRING",
                "InstrumentationKey=ikey-secret;IngestionEndpoint=https://x.example/",
            ),
            (
                "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
                "Authorization=AAD;ClientId=abc",
            ),
            ("LOG_FORMAT", "JSON"),
            ("WEBSITE_SITE_NAME", "func-app"),
            ("TELEMETRY_RECORD_ARGUMENT_NAMES", "true"),
            ("OTEL_METRIC_EXPORT_INTERVAL", "1000"),
        ]))
        .unwrap_or_default();
        assert_eq!(
            full.ingestion_auth,
            IngestionAuth::Entra {
                client_id: Some("abc".into())
            }
        );
        assert_eq!(full.log_format, LogFormat::Json);
        assert_eq!(full.role_name, "func-app-handler");
        assert!(full.record_argument_names);
        assert_eq!(full.metric_interval, Duration::from_secs(1));
        assert!(!format!("{full:?}").contains("ikey-secret"));
        for (name, value) in [
            (
                "APPLICATIONINSIGHTS_CONNECTION_STRING",
                "IngestionEndpoint=https://x/",
            ),
            (
                "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
                "Authorization=Key",
            ),
            ("LOG_FORMAT", "xml"),
            ("TELEMETRY_RECORD_ARGUMENT_NAMES", "maybe"),
            ("OTEL_FILTER", "info,[{"),
        ] {
            let vars = [(name, value)];
            let e = telemetry(|k: &str| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            });
            assert!(
                matches!(e, Err(ConfigError::Invalid { name: n, .. }) if n == name),
                "{name}"
            );
        }
    }

    #[test]
    fn functions_needs_out() {
        assert_eq!(
            parse_with(&["functions", "--out", "dist"], &[]),
            Ok(Command::Functions { out: "dist".into() })
        );
        assert!(matches!(
            parse_with(&["functions"], &[]),
            Err(ConfigError::Usage(_))
        ));
        assert!(matches!(
            parse_with(&["serv"], &[]),
            Err(ConfigError::Usage(_))
        ));
    }
}
