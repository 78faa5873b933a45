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
  RUST_LOG                      log filter, e.g. `info` or `handler=debug` (default `info`)
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
