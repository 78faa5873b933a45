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
    let command = match config::parse(std::env::args_os().skip(1), |k| std::env::var(k).ok()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("handler: {e}");
            return ExitCode::from(2);
        }
    };
    // The downstream APIs' settings are checked now, for the modes that call them; the
    // function folders need none.
    let downstream = match &command {
        Command::Help | Command::Functions { .. } => Default::default(),
        _ => match mcp_tools::downstream_config(|k| std::env::var(k).ok()) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("handler: {e}");
                return ExitCode::from(2);
            }
        },
    };
    let telemetry_config = match &command {
        Command::Help | Command::Functions { .. } => TelemetryConfig::default(),
        _ => match config::telemetry(|k| std::env::var(k).ok()) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("handler: {e}");
                return ExitCode::from(2);
            }
        },
    };
    let mut registry = match mcp_tools::build_registry(&downstream) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("handler: the tool registry is invalid: {e}");
            return ExitCode::FAILURE;
        }
    };
    match command {
        Command::Help => {
            print!("{}", config::USAGE);
            ExitCode::SUCCESS
        }
        Command::Functions { out } => match functions_json::write_all(&registry, &out) {
            Ok(paths) => {
                for p in paths {
                    println!("{}", p.display());
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!(
                    "handler: writing function folders into {}: {e}",
                    out.display()
                );
                ExitCode::FAILURE
            }
        },
        Command::Serve(config) => {
            // Test fixtures, added only here: never in function.json, never served by default.
            if config.conformance_tools
                && let Err(e) = mcp_tools::tools::register_conformance_tools(&mut registry)
            {
                eprintln!("handler: the conformance tools are invalid: {e}");
                return ExitCode::FAILURE;
            }
            match serve_self_hosted(
                config,
                Arc::new(registry),
                telemetry_config,
                downstream.identity,
            ) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("handler: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Invocations(settings) => {
            match serve_invocations(
                settings,
                Arc::new(registry),
                telemetry_config,
                downstream.identity,
            ) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("handler: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

/// How long a stopping instance may spend exporting buffered telemetry.
const TELEMETRY_FLUSH: Duration = Duration::from_secs(5);

/// Starts telemetry on the serving runtime, runs `serve`, then flushes within
/// [`TELEMETRY_FLUSH`]: both modes stop the same way on SIGTERM/SIGINT.
async fn with_telemetry(
    config: &TelemetryConfig,
    identity: &IdentitySettings,
    serve: impl std::future::Future<Output = std::io::Result<()>>,
) -> std::io::Result<()> {
    let telemetry = telemetry::init(config, identity).map_err(std::io::Error::other)?;
    if telemetry.is_exporting() {
        tracing::info!(role = %config.role_name, "exporting telemetry to Application Insights");
    }
    let result = serve.await;
    if let Err(e) = &result {
        tracing::error!("handler stopped: {e}");
    }
    telemetry.shutdown(TELEMETRY_FLUSH).await;
    result
}

#[tokio::main]
async fn serve_invocations(
    settings: InvocationSettings,
    registry: Arc<mcp_tools::Registry>,
    telemetry: TelemetryConfig,
    identity: IdentitySettings,
) -> std::io::Result<()> {
    with_telemetry(&telemetry, &identity, invocations(settings, registry)).await
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

#[tokio::main]
async fn serve_self_hosted(
    config: ServeConfig,
    registry: Arc<mcp_tools::Registry>,
    telemetry: TelemetryConfig,
    identity: IdentitySettings,
) -> std::io::Result<()> {
    with_telemetry(&telemetry, &identity, self_hosted(config, registry)).await
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
