//! The custom-handler process: started the way the host starts it (§4), watched for
//! readiness with `GET /`, restarted when it has died, its output kept for tests.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::AsyncReadExt;
use tokio::process::{Child, Command};

use crate::EmulatorError;
use crate::app::Launch;

/// The host gives the handler this long to answer its first `GET /`.
pub const READY_TIMEOUT: Duration = Duration::from_secs(60);

pub struct Supervisor {
    launch: Launch,
    app_root: String,
    echo: bool,
    output: Arc<Mutex<String>>,
    running: tokio::sync::Mutex<Option<Running>>,
    probe: reqwest::Client,
    incarnations: std::sync::atomic::AtomicUsize,
}

struct Running {
    child: Child,
    port: u16,
}

impl Supervisor {
    pub fn new(launch: Launch, app_root: String, echo: bool) -> Result<Self, EmulatorError> {
        let probe = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(2))
            .build()
            .map_err(|e| EmulatorError::Spawn(format!("http client: {e}")))?;
        Ok(Self {
            launch,
            app_root,
            echo,
            output: Arc::new(Mutex::new(String::new())),
            running: tokio::sync::Mutex::new(None),
            probe,
            incarnations: std::sync::atomic::AtomicUsize::new(0),
        })
    }

    pub fn output(&self) -> String {
        self.output.lock().map(|o| o.clone()).unwrap_or_default()
    }

    pub fn incarnations(&self) -> usize {
        self.incarnations.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The port of a live, ready handler, starting one first when there is none. Callers
    /// queue behind a restart instead of racing it.
    pub async fn ensure_ready(&self) -> Result<u16, EmulatorError> {
        let mut guard = self.running.lock().await;
        if let Some(r) = guard.as_mut()
            && matches!(r.child.try_wait(), Ok(None))
        {
            return Ok(r.port);
        }
        *guard = None;
        let running = self.start().await?;
        let port = running.port;
        *guard = Some(running);
        Ok(port)
    }

    /// Called when a request to the handler on `port` broke at the transport level: a
    /// handler that is dying has often closed its sockets before it can be reaped, and the
    /// next call must not be sent to it.
    pub async fn after_transport_error(&self, port: u16) {
        let mut guard = self.running.lock().await;
        let deadline = Instant::now() + Duration::from_secs(1);
        loop {
            let Some(r) = guard.as_mut().filter(|r| r.port == port) else {
                return;
            };
            if !matches!(r.child.try_wait(), Ok(None)) {
                *guard = None;
                return;
            }
            if Instant::now() >= deadline {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    pub async fn kill(&self) {
        let mut guard = self.running.lock().await;
        if let Some(mut r) = guard.take() {
            let _ = r.child.start_kill();
            let _ = r.child.wait().await;
        }
    }

    async fn start(&self) -> Result<Running, EmulatorError> {
        // A fresh port per incarnation: the dead one's socket may linger.
        let port = free_port()?;
        let l = &self.launch;
        let mut cmd = Command::new(&l.program);
        cmd.args(&l.args)
            .current_dir(&l.working_dir)
            .envs(l.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("FUNCTIONS_CUSTOMHANDLER_PORT", port.to_string())
            .env("FUNCTIONS_CUSTOMHANDLER_WORKER_ID", crate::ids::guid())
            .env("FUNCTIONS_APP_ROOT_PATH", &self.app_root)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd.spawn().map_err(|e| {
            EmulatorError::Spawn(format!(
                "{} {:?} (in {}): {e}",
                l.program.display(),
                l.args,
                l.working_dir.display()
            ))
        })?;
        self.incarnations
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if let Some(out) = child.stdout.take() {
            tokio::spawn(pump(out, self.output.clone(), self.echo));
        }
        if let Some(err) = child.stderr.take() {
            tokio::spawn(pump(err, self.output.clone(), self.echo));
        }

        let url = format!("http://127.0.0.1:{port}/");
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(EmulatorError::NotReady(format!(
                    "the handler exited ({status}) before answering GET / on port {port}"
                )));
            }
            if self.probe.get(&url).send().await.is_ok() {
                return Ok(Running { child, port });
            }
            if Instant::now() >= deadline {
                let _ = child.start_kill();
                return Err(EmulatorError::NotReady(format!(
                    "the handler did not answer GET / on port {port} within {}s",
                    READY_TIMEOUT.as_secs()
                )));
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

async fn pump(mut from: impl tokio::io::AsyncRead + Unpin, to: Arc<Mutex<String>>, echo: bool) {
    let mut buf = vec![0u8; 8192];
    loop {
        match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let text = String::from_utf8_lossy(&buf[..n]);
                if echo {
                    // stderr, never stdout: the binary's stdout carries only its ready line.
                    eprint!("{text}");
                }
                if let Ok(mut o) = to.lock() {
                    o.push_str(&text);
                }
            }
        }
    }
}

pub fn free_port() -> Result<u16, EmulatorError> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| EmulatorError::Spawn(format!("no free port: {e}")))
}
