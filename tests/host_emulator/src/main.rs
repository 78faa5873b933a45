//! `host-emulator`: runs the emulator for tests in other languages. Prints exactly one
//! stdout line, `MCP endpoint: <url>`, once ready; everything else goes to stderr.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use host_emulator::{EmulatorOptions, Encoding, ResponseMode, RunningEmulator};

const USAGE: &str = "usage: host-emulator --app-root DIR [--port N] [--encoding double|single] \
[--key K] [--blob-dir DIR] [--echo] [--json-responses] [--timeout-secs N] [--env NAME=VALUE]...";

fn parse(args: &[String]) -> Result<EmulatorOptions, String> {
    let mut opts = EmulatorOptions::new(PathBuf::new());
    let mut app_root = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match a.as_str() {
            "--app-root" => app_root = Some(PathBuf::from(value(a)?)),
            "--port" => opts.port = value(a)?.parse().map_err(|e| format!("--port: {e}"))?,
            "--encoding" => {
                opts.encoding = match value(a)?.as_str() {
                    "double" => Encoding::Double,
                    "single" => Encoding::Single,
                    other => return Err(format!("--encoding: unknown '{other}'")),
                }
            }
            "--key" => opts.key = Some(value(a)?),
            "--blob-dir" => opts.blob_root = Some(PathBuf::from(value(a)?)),
            "--echo" => opts.echo_child_output = true,
            "--json-responses" => opts.response_mode = ResponseMode::Json,
            "--timeout-secs" => {
                let s: f64 = value(a)?
                    .parse()
                    .map_err(|e| format!("--timeout-secs: {e}"))?;
                opts.invocation_timeout = std::time::Duration::from_secs_f64(s);
            }
            "--env" => {
                let kv = value(a)?;
                let (k, v) = kv.split_once('=').ok_or("--env needs NAME=VALUE")?;
                opts.extra_env.push((k.to_owned(), v.to_owned()));
            }
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument '{other}'\n{USAGE}")),
        }
    }
    opts.app_root = app_root.ok_or_else(|| format!("--app-root is required\n{USAGE}"))?;
    Ok(opts)
}

/// Watching stdin only makes sense when someone holds its other end: a parent that
/// passes /dev/null (or CI's absent stdin) must not stop the emulator at once.
fn stdin_is_pipe() -> bool {
    use std::os::unix::fs::FileTypeExt;
    std::fs::metadata("/proc/self/fd/0").is_ok_and(|m| m.file_type().is_fifo())
}

async fn stop_requested() {
    use tokio::io::AsyncReadExt;
    use tokio::signal::unix::{SignalKind, signal};
    let stdin_eof = async {
        if !stdin_is_pipe() {
            return std::future::pending::<()>().await;
        }
        let mut stdin = tokio::io::stdin();
        let mut buf = [0u8; 1024];
        while let Ok(n) = stdin.read(&mut buf).await {
            if n == 0 {
                break;
            }
        }
    };
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        return stdin_eof.await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
        () = stdin_eof => {}
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let opts = match parse(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let emulator = match RunningEmulator::start(opts).await {
        Ok(e) => e,
        Err(e) => {
            eprintln!("host-emulator: {e}");
            return ExitCode::FAILURE;
        }
    };
    eprintln!("host-emulator: tools {:?}", emulator.tool_names());
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "MCP endpoint: {}", emulator.mcp_url());
        let _ = out.flush();
    }
    stop_requested().await;
    emulator.shutdown().await;
    // Exit here rather than by returning: tokio's stdin reader sits in a blocking read on a
    // runtime thread, and dropping the runtime would wait for it until the parent closes
    // stdin (a SIGTERM'd emulator would hang).
    std::process::exit(0)
}
