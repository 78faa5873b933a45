//! The command line and the settings, read and checked once at start-up.
//!
//! Modes (architecture.md): with no subcommand the handler serves the custom-handler protocol
//! when the host has set `FUNCTIONS_CUSTOMHANDLER_PORT`; `functions --out DIR` writes the
//! function folders.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

pub const USAGE: &str = "\
Usage:
  handler                     serve the tools to the Azure Functions host
                              (needs FUNCTIONS_CUSTOMHANDLER_PORT, set by `func start` / Azure)
  handler functions --out DIR write one function folder per tool (<tool>/function.json) into DIR
  handler --help              this text

Settings (environment):
  FUNCTIONS_CUSTOMHANDLER_PORT  port to listen on, on 127.0.0.1 (set by the Functions host)
  HANDLER_CALL_TIMEOUT_MS       time a tool call may take, 1..=200000 ms (default 30000)
  RUST_LOG                      log filter, e.g. `info` or `handler=debug` (default `info`)
";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Serve the custom-handler protocol to the Functions host.
    Invocations(InvocationSettings),
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
        None => invocation_settings(&env).map(Command::Invocations),
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

fn invocation_settings(
    env: &impl Fn(&str) -> Option<String>,
) -> Result<InvocationSettings, ConfigError> {
    let port = setting(env, "FUNCTIONS_CUSTOMHANDLER_PORT")?.ok_or(ConfigError::NoHostPort)?;
    let port = port
        .trim()
        .parse::<u16>()
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| ConfigError::Invalid {
            name: "FUNCTIONS_CUSTOMHANDLER_PORT",
            reason: format!("`{port}` is not a port number (1-65535)"),
        })?;
    let call_timeout = match setting(env, "HANDLER_CALL_TIMEOUT_MS")? {
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
    };
    Ok(InvocationSettings { port, call_timeout })
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
    fn no_subcommand_outside_the_host_explains_itself() {
        assert_eq!(parse_with(&[], &[]), Err(ConfigError::NoHostPort));
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
