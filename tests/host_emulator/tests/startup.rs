//! What the host refuses at indexing time, start-up failures, and the `host-emulator` binary.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use host_emulator::{EmulatorError, EmulatorOptions, RunningEmulator};
use serde_json::{Value, json};

fn write_app(dir: &Path, args: Value, functions: &[(&str, Value)]) {
    let host = json!({"version": "2.0", "customHandler": {"description": {
        "defaultExecutablePath": "python3", "arguments": args}}});
    std::fs::write(dir.join("host.json"), host.to_string()).unwrap();
    for (folder, trigger) in functions {
        std::fs::create_dir_all(dir.join(folder)).unwrap();
        let fj = json!({"bindings": [trigger]});
        std::fs::write(dir.join(folder).join("function.json"), fj.to_string()).unwrap();
    }
}

fn trigger(tool: &str, extra: Value) -> Value {
    let mut t =
        json!({"type": "mcpToolTrigger", "direction": "in", "name": "context", "toolName": tool});
    for (k, v) in extra.as_object().unwrap() {
        t[k] = v.clone();
    }
    t
}

async fn start_err(functions: &[(&str, Value)]) -> String {
    let dir = tempfile::tempdir().unwrap();
    write_app(dir.path(), json!(["-c", "raise SystemExit(1)"]), functions);
    match RunningEmulator::start(EmulatorOptions::new(dir.path())).await {
        Ok(_) => panic!("start should fail"),
        Err(e) => {
            assert!(matches!(e, EmulatorError::App(_)), "{e}");
            e.to_string()
        }
    }
}

#[tokio::test]
async fn duplicate_tool_names_fail_case_insensitively() {
    let e = start_err(&[
        ("a", trigger("Dup", json!({}))),
        ("b", trigger("dup", json!({}))),
    ])
    .await;
    assert!(
        e.contains("duplicate") && e.contains("'a'") && e.contains("'b'"),
        "{e}"
    );
}

#[tokio::test]
async fn schemas_must_be_strings_with_an_object_root() {
    let bad_outputs = [
        json!(r#"{"type":["object","null"]}"#),
        json!(r#"{"type":"array","items":{}}"#),
        json!(r#"[]"#),
        json!(r#"not json"#),
        json!({"type": "object"}),
        json!(r#"{"type":"object","properties":[]}"#),
    ];
    for s in bad_outputs {
        let e = start_err(&[("f", trigger("t", json!({"outputSchema": s})))]).await;
        assert!(e.contains("outputSchema"), "{e}");
    }
    let e = start_err(&[(
        "f",
        trigger(
            "t",
            json!({"useWorkerInputSchema": true, "inputSchema": r#"{"type":"string"}"#}),
        ),
    )])
    .await;
    assert!(e.contains("inputSchema"), "{e}");
    let e = start_err(&[("f", trigger("t", json!({"useWorkerInputSchema": true})))]).await;
    assert!(e.contains("inputSchema"), "{e}");
    let e = start_err(&[(
        "f",
        trigger("t", json!({"toolProperties": [{"propertyName": "x"}]})),
    )])
    .await;
    assert!(e.contains("toolProperties"), "{e}");
    let e = start_err(&[("f", trigger("t", json!({"metadata": "[1]"})))]).await;
    assert!(e.contains("metadata"), "{e}");
}

#[tokio::test]
async fn a_handler_that_dies_before_ready_fails_start() {
    let dir = tempfile::tempdir().unwrap();
    write_app(
        dir.path(),
        json!(["-c", "raise SystemExit(1)"]),
        &[("f", trigger("t", json!({})))],
    );
    let t = Instant::now();
    let e = RunningEmulator::start(EmulatorOptions::new(dir.path()))
        .await
        .err()
        .unwrap();
    assert!(matches!(e, EmulatorError::NotReady(_)), "{e}");
    assert!(t.elapsed() < Duration::from_secs(10));
    let e = RunningEmulator::start(EmulatorOptions::new(dir.path().join("missing")))
        .await
        .err()
        .unwrap();
    assert!(matches!(e, EmulatorError::App(_)), "{e}");
}

#[tokio::test]
async fn the_binary_prints_one_line_and_stops_on_stdin_eof() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_host-emulator"))
        .args([
            "--app-root",
            fixture_app().to_str().unwrap(),
            "--key",
            "k",
            "--encoding",
            "single",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let url = line
        .trim_end()
        .strip_prefix("MCP endpoint: ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    assert!(url.starts_with("http://127.0.0.1:") && url.ends_with("/runtime/webhooks/mcp"));

    let c = http();
    let r = c
        .post(&url)
        .header("Accept", ACCEPT_BOTH)
        .header("x-functions-key", "k")
        .body(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = c
        .post(&url)
        .header("Accept", ACCEPT_BOTH)
        .body(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    drop(child.stdin.take());
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "the emulator did not stop on stdin EOF"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    assert_eq!(rest, "", "only one stdout line");
}
