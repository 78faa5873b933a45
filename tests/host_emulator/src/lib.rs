//! An emulator of the Azure Functions host with its MCP extension, in front of a custom
//! handler, written only from `shared/functions-mcp-contract.md` (model A) so that it can
//! disagree with the handler it tests.
//!
//! - [`app`]: what the host indexes at start (host.json, local.settings.json, function.json).
//! - `child`: starting, probing, capturing and restarting the handler process.
//! - `mcp`: the client-facing `/runtime/webhooks/mcp` endpoint and JSON-RPC server.
//! - `invoke`: one `tools/call` → `{Data, Metadata}` → handler → `CallToolResult`.
//! - [`blobs`]: blob bindings on a local folder, path templates, the base64 heuristic.
//! - [`ids`]: GUIDs and timestamps.
//!
//! [`RunningEmulator`] ties them together; `src/main.rs` is the `host-emulator` binary.

pub mod app;
pub mod blobs;
mod child;
pub mod ids;
mod invoke;
mod mcp;

pub use mcp::{LATEST_VERSION, MCP_PATH, SUPPORTED_VERSIONS};

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How `Data` values are serialized (contract §4, inferred): the real host is believed to
/// double-encode; the handler must accept both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encoding {
    #[default]
    Double,
    Single,
}

/// How JSON-RPC answers go back to the client. The extension writes them as one SSE
/// `message` event on the POST response; plain JSON is there to test clients' tolerance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResponseMode {
    #[default]
    Sse,
    Json,
}

#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error("invalid app: {0}")]
    App(String),
    #[error("cannot start the handler: {0}")]
    Spawn(String),
    #[error("the handler is not ready: {0}")]
    NotReady(String),
    #[error("cannot serve MCP: {0}")]
    Serve(String),
}

#[derive(Debug, Clone)]
pub struct EmulatorOptions {
    pub app_root: PathBuf,
    pub encoding: Encoding,
    /// The `mcp_extension` system key; `None` disables the check (as `func start` does).
    pub key: Option<String>,
    /// Folder behind blob bindings; `None` = a fresh temporary folder.
    pub blob_root: Option<PathBuf>,
    /// App settings beyond local.settings.json `Values` (they win over it).
    pub extra_env: Vec<(String, String)>,
    /// Copy the handler's stdout/stderr to the emulator's stderr as well.
    pub echo_child_output: bool,
    /// MCP port; 0 picks a free one.
    pub port: u16,
    pub response_mode: ResponseMode,
    pub invocation_timeout: Duration,
}

impl EmulatorOptions {
    pub fn new(app_root: impl Into<PathBuf>) -> Self {
        Self {
            app_root: app_root.into(),
            encoding: Encoding::Double,
            key: None,
            blob_root: None,
            extra_env: Vec::new(),
            echo_child_output: false,
            port: 0,
            response_mode: ResponseMode::Sse,
            // The Functions front end's HTTP timeout.
            invocation_timeout: Duration::from_secs(230),
        }
    }
}

#[derive(Default)]
pub(crate) struct Records {
    pub logs: Vec<String>,
    pub invocations: Vec<Value>,
    pub invoked_functions: Vec<String>,
    pub failures: Vec<String>,
}

pub(crate) struct Shared {
    pub app: app::App,
    pub encoding: Encoding,
    pub key: Option<String>,
    pub response_mode: ResponseMode,
    pub invocation_timeout: Duration,
    pub blob_root: PathBuf,
    pub supervisor: child::Supervisor,
    pub client: reqwest::Client,
    pub records: Mutex<Records>,
}

impl Shared {
    pub fn record(&self, f: impl FnOnce(&mut Records)) {
        if let Ok(mut r) = self.records.lock() {
            f(&mut r);
        }
    }

    fn read<T>(&self, f: impl FnOnce(&Records) -> T) -> T
    where
        T: Default,
    {
        self.records.lock().map(|r| f(&r)).unwrap_or_default()
    }
}

pub struct RunningEmulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
    _blob_tmp: Option<tempfile::TempDir>,
}

impl RunningEmulator {
    /// Indexes the app, starts the handler, waits for its `GET /`, then serves MCP.
    pub async fn start(opts: EmulatorOptions) -> Result<Self, EmulatorError> {
        let app = app::load(&opts.app_root, &opts.extra_env)?;
        let (blob_root, blob_tmp) = match &opts.blob_root {
            Some(p) => (p.clone(), None),
            None => {
                let t = tempfile::tempdir()
                    .map_err(|e| EmulatorError::Serve(format!("temp blob folder: {e}")))?;
                (t.path().to_path_buf(), Some(t))
            }
        };
        let supervisor = child::Supervisor::new(
            app.launch.clone(),
            app.root.to_string_lossy().into_owned(),
            opts.echo_child_output,
        )?;
        supervisor.ensure_ready().await?;

        // No pooling: a reused connection to a dead handler would blur the restart tests.
        let client = reqwest::Client::builder()
            .no_proxy()
            .pool_max_idle_per_host(0)
            .build()
            .map_err(|e| EmulatorError::Serve(format!("http client: {e}")))?;
        let shared = Arc::new(Shared {
            app,
            encoding: opts.encoding,
            key: opts.key.clone(),
            response_mode: opts.response_mode,
            invocation_timeout: opts.invocation_timeout,
            blob_root,
            supervisor,
            client,
            records: Mutex::new(Records::default()),
        });

        let listener = tokio::net::TcpListener::bind(("127.0.0.1", opts.port))
            .await
            .map_err(|e| EmulatorError::Serve(format!("bind 127.0.0.1:{}: {e}", opts.port)))?;
        let addr = listener
            .local_addr()
            .map_err(|e| EmulatorError::Serve(e.to_string()))?;
        let (stop, stopped) = oneshot::channel::<()>();
        let router = mcp::router(shared.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(Self {
            shared,
            addr,
            stop: Some(stop),
            server: Some(server),
            _blob_tmp: blob_tmp,
        })
    }

    pub fn mcp_url(&self) -> String {
        format!("http://{}{}", self.addr, mcp::MCP_PATH)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn blob_root(&self) -> PathBuf {
        self.shared.blob_root.clone()
    }

    /// The tools as indexed, in folder order.
    pub fn tool_names(&self) -> Vec<String> {
        self.shared
            .app
            .tools
            .iter()
            .map(|t| t.tool_name.clone())
            .collect()
    }

    /// Everything the handler wrote to stdout and stderr, over all its incarnations.
    pub fn handler_output(&self) -> String {
        self.shared.supervisor.output()
    }

    /// How many times the handler process has been started.
    pub fn handler_starts(&self) -> usize {
        self.shared.supervisor.incarnations()
    }

    /// Every `Logs` entry the handler returned.
    pub fn logs(&self) -> Vec<String> {
        self.shared.read(|r| r.logs.clone())
    }

    /// Every `{Data, Metadata}` body sent to the handler, in order.
    pub fn invocations(&self) -> Vec<Value> {
        self.shared.read(|r| r.invocations.clone())
    }

    /// The function (folder) name of each invocation, parallel to [`Self::invocations`].
    pub fn invoked_functions(&self) -> Vec<String> {
        self.shared.read(|r| r.invoked_functions.clone())
    }

    /// Why each call that ended in the generic error failed (the real host would log it).
    pub fn failures(&self) -> Vec<String> {
        self.shared.read(|r| r.failures.clone())
    }

    /// SIGKILLs the handler; the next call starts a new one.
    pub async fn kill_handler(&self) {
        self.shared.supervisor.kill().await;
    }

    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            // In-flight SSE answers are short; do not wait on a stuck client forever.
            let _ = tokio::time::timeout(Duration::from_secs(5), server).await;
        }
        self.shared.supervisor.kill().await;
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
        }
        // The child is `kill_on_drop`, so it dies with the last reference to the supervisor.
    }
}
