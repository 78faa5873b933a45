//! Thin: parse the command line, set up telemetry, run the chosen mode.

use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use handler::config::{self, Command, InvocationSettings, ServeConfig, TelemetryConfig};
use handler::local_blobs::LocalBlobs;
use handler::serve_functions::{self, AppState};
use handler::serve_mcp::{self, ServeSettings};
use handler::{functions_json, telemetry};
use mcp_tools::downstream::IdentitySettings;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("handler: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}

/// Why the process stops early: 2 for anything the user can fix in the command line or the
/// settings, 1 for the rest.
struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    fn settings(e: impl std::fmt::Display) -> Self {
        Self {
            code: 2,
            message: e.to_string(),
        }
    }

    fn runtime(e: impl std::fmt::Display) -> Self {
        Self {
            code: 1,
            message: e.to_string(),
        }
    }
}

/// The front door a serving mode runs.
enum Front {
    Functions(InvocationSettings),
    SelfHosted(ServeConfig),
}

fn run() -> Result<(), Failure> {
    let env = |k: &str| std::env::var(k).ok();
    let command = config::parse(std::env::args_os().skip(1), env).map_err(Failure::settings)?;
    // Downstream and telemetry settings are checked now, for the modes that use them; the
    // function folders need none.
    let serving = !matches!(command, Command::Help | Command::Functions { .. });
    let downstream = if serving {
        mcp_tools::downstream_config(env).map_err(Failure::settings)?
    } else {
        Default::default()
    };
    let telemetry_config = if serving {
        config::telemetry(env).map_err(Failure::settings)?
    } else {
        TelemetryConfig::default()
    };
    let mut registry = mcp_tools::build_registry(&downstream)
        .map_err(|e| Failure::runtime(format!("the tool registry is invalid: {e}")))?;
    let front = match command {
        Command::Help => {
            print!("{}", config::USAGE);
            return Ok(());
        }
        Command::Functions { out } => {
            let paths = functions_json::write_all(&registry, &out).map_err(|e| {
                Failure::runtime(format!(
                    "writing function folders into {}: {e}",
                    out.display()
                ))
            })?;
            for p in paths {
                println!("{}", p.display());
            }
            return Ok(());
        }
        Command::Serve(config) => {
            // Test fixtures, added only here: never in function.json, never served by default.
            if config.conformance_tools {
                mcp_tools::tools::register_conformance_tools(&mut registry).map_err(|e| {
                    Failure::runtime(format!("the conformance tools are invalid: {e}"))
                })?;
            }
            Front::SelfHosted(config)
        }
        Command::Invocations(settings) => Front::Functions(settings),
    };
    serve(
        front,
        Arc::new(registry),
        telemetry_config,
        downstream.identity,
    )
    .map_err(Failure::runtime)
}

/// How long a stopping instance may spend exporting buffered telemetry.
const TELEMETRY_FLUSH: Duration = Duration::from_secs(5);

/// Starts telemetry on the serving runtime, serves until SIGTERM/SIGINT, then flushes within
/// [`TELEMETRY_FLUSH`]: both front doors stop the same way.
#[tokio::main]
async fn serve(
    front: Front,
    registry: Arc<mcp_tools::Registry>,
    config: TelemetryConfig,
    identity: IdentitySettings,
) -> std::io::Result<()> {
    let telemetry = telemetry::init(&config, &identity).map_err(std::io::Error::other)?;
    if telemetry.is_exporting() {
        tracing::info!(role = %config.role_name, "exporting telemetry to Application Insights");
    }
    let result = match front {
        Front::Functions(settings) => invocations(settings, registry).await,
        Front::SelfHosted(settings) => self_hosted(settings, registry).await,
    };
    if let Err(e) = &result {
        tracing::error!("handler stopped: {e}");
    }
    telemetry.shutdown(TELEMETRY_FLUSH).await;
    result
}

async fn invocations(
    settings: InvocationSettings,
    registry: Arc<mcp_tools::Registry>,
) -> std::io::Result<()> {
    // Loopback only: the host is the only client, and nothing else should reach the tools
    // without its key check.
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, settings.port));
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(%addr, tools = registry.specs().len(), "serving the Functions host");
    let state = AppState {
        registry,
        call_timeout: settings.call_timeout,
    };
    serve_functions::run(listener, state, shutdown_signal()).await
}

async fn self_hosted(
    config: ServeConfig,
    registry: Arc<mcp_tools::Registry>,
) -> std::io::Result<()> {
    serve_mcp::check_exposure(config.addr, config.key.is_some(), config.insecure_no_auth)
        .map_err(std::io::Error::other)?;
    let listener = tokio::net::TcpListener::bind(config.addr).await?;
    let addr = listener.local_addr()?;
    tracing::info!(
        %addr,
        tools = registry.specs().len(),
        key_required = config.key.is_some(),
        snippets_dir = %config.snippets_dir.display(),
        "serving MCP at http://{addr}/runtime/webhooks/mcp and /mcp"
    );
    let settings = ServeSettings {
        key: config.key,
        allowed_hosts: config.allowed_hosts,
        call_timeout: config.call_timeout,
        blobs: LocalBlobs::new(config.snippets_dir),
    };
    let shutdown = tokio_util::sync::CancellationToken::new();
    let trigger = shutdown.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        trigger.cancel();
    });
    serve_mcp::run(listener, registry, settings, shutdown).await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
