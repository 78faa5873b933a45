//! Thin: parse the command line, set up telemetry, run the chosen mode.

use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::sync::Arc;

use handler::config::{self, Command, InvocationSettings};
use handler::serve_functions::{self, AppState};
use handler::{functions_json, telemetry};

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
    let registry = match mcp_tools::build_registry(&downstream) {
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
        Command::Invocations(settings) => {
            telemetry::init();
            match serve_invocations(settings, Arc::new(registry)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    tracing::error!("handler stopped: {e}");
                    eprintln!("handler: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

#[tokio::main]
async fn serve_invocations(
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
