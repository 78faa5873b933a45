//! The argument-level subset of the hostile-input corpus as JSON-RPC `tools/call`, through
//! both MCP front doors: the host emulator in front of the built handler (model A), and
//! `handler serve` in process. Each case must get the answer it gets at the invocation
//! endpoint, within a bound, and nothing may leave the downstream API's base path.

mod common;
mod hostile;

use std::time::{Duration, Instant};

use common::mcp_cases;
use host_emulator::{EmulatorOptions, ResponseMode, RunningEmulator};
use hostile::{ArgCase, CALLER_KEY, Expect};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const BOUND: Duration = Duration::from_secs(5);
const BASE_PATH: &str = "/api/v1";
const CALLER_BEARER: &str = "hostile-bearer-5b7e0c13";

async fn orders_api() -> MockServer {
    let api = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{BASE_PATH}/orders")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"items": []})))
        .mount(&api)
        .await;
    api
}

fn downstream_env(api: &MockServer) -> Vec<(String, String)> {
    vec![
        (
            "DOWNSTREAM__ORDERS__BASE_URL".to_owned(),
            format!("{}{BASE_PATH}", api.uri()),
        ),
        ("DOWNSTREAM__ORDERS__AUTH".to_owned(), "none".to_owned()),
    ]
}

fn subset(registry: &mcp_tools::Registry) -> Vec<ArgCase> {
    hostile::schema_cases(registry)
        .into_iter()
        .chain(hostile::table_cases())
        .filter(|c| c.mcp)
        .collect()
}

/// One `tools/call` as raw JSON-RPC text (the arguments are raw JSON text too).
async fn call(
    client: &reqwest::Client,
    url: &str,
    tool: &str,
    arguments: &str,
) -> Result<Value, String> {
    let body = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":{},"arguments":{arguments}}}}}"#,
        Value::String(tool.to_owned())
    );
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-06-18")
        .header("x-functions-key", CALLER_KEY)
        .header("authorization", format!("Bearer {CALLER_BEARER}"))
        .body(body)
        .send()
        .await
        .map_err(|e| format!("transport: {e}"))?;
    let status = response.status();
    let text = response.text().await.map_err(|e| format!("body: {e}"))?;
    if !status.is_success() {
        return Err(format!(
            "HTTP {status}: {}",
            text.chars().take(300).collect::<String>()
        ));
    }
    // JSON, or an SSE stream whose last `data:` line is the response.
    let json = text
        .lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .next_back()
        .unwrap_or(&text);
    serde_json::from_str(json.trim()).map_err(|e| format!("not JSON ({e}): {text}"))
}

fn mismatch(answer: &Value, expect: &Expect) -> Option<String> {
    let raw = answer.to_string();
    for secret in [CALLER_KEY, CALLER_BEARER] {
        if raw.contains(secret) {
            return Some(format!("echoed {secret}"));
        }
    }
    let Some(result) = answer.get("result") else {
        return Some(format!(
            "not a result: {}",
            raw.chars().take(300).collect::<String>()
        ));
    };
    let is_error = result["isError"] == true;
    let text = result["content"][0]["text"].as_str().unwrap_or_default();
    match expect {
        Expect::Ok if is_error => Some(format!("isError: {text}")),
        Expect::IsError(_) if !is_error => Some(format!("not isError: {text}")),
        Expect::IsError(Some(arg)) if !text.contains(&format!("`{arg}`")) => {
            Some(format!("does not name `{arg}`: {text}"))
        }
        Expect::IsError(_) if text.len() > 2048 => Some(format!("a {}-byte message", text.len())),
        Expect::Status(_) | Expect::StatusOnly(_) => Some("not an MCP-level case".to_owned()),
        _ => None,
    }
}

/// Cases the host itself refuses before the handler runs: it cannot resolve the blob path
/// `snippets/{mcptoolargs.snippetname}.json` from a null or a megabyte-long name, and answers
/// with its generic error (contract §5). The handler never sees them.
const HOST_REFUSES: &[&str] = &["save_snippet.snippetname=null", "1MB snippet name"];

async fn run_subset(front: &str, url: &str, cases: &[ArgCase]) -> Vec<String> {
    // One client: building one per call costs more than the call.
    let client = reqwest::Client::new();
    let mut failures = Vec::new();
    for case in cases {
        let started = Instant::now();
        let what = format!("{front} [{}] {} {}", case.category, case.tool, case.name);
        let host_refuses = front == "host emulator" && HOST_REFUSES.contains(&case.name.as_str());
        match tokio::time::timeout(BOUND, call(&client, url, &case.tool, &case.arguments)).await {
            Err(_) => failures.push(format!("{what}: no answer within {BOUND:?}")),
            Ok(Err(e)) => failures.push(format!("{what}: {e}")),
            Ok(Ok(answer)) if host_refuses => {
                let generic = format!("An error occurred invoking '{}'.", case.tool);
                if answer["result"]["content"][0]["text"] != generic.as_str() {
                    failures.push(format!("{what}: not the host's generic error: {answer}"));
                }
            }
            Ok(Ok(answer)) => {
                if let Some(why) = mismatch(&answer, &case.expect) {
                    failures.push(format!("{what} (expected {:?}): {why}", case.expect));
                } else if started.elapsed() > BOUND {
                    failures.push(format!("{what}: took {:?}", started.elapsed()));
                }
            }
        }
    }
    // Still healthy afterwards.
    match call(&client, url, "hello_mcp", "{}").await {
        Ok(answer) if answer["result"]["content"][0]["text"] == "Hello I am MCPTool!" => {}
        other => failures.push(format!("{front}: hello_mcp after the corpus: {other:?}")),
    }
    failures
}

async fn assert_nothing_escaped(api: &MockServer) -> usize {
    let received = api.received_requests().await.expect("recorded");
    for request in &received {
        let url = &request.url;
        assert_eq!(url.path(), format!("{BASE_PATH}/orders"), "escaped: {url}");
        for (key, _) in url.query_pairs() {
            assert!(
                ["status", "customerId", "pageSize", "pageToken"].contains(&key.as_ref()),
                "a smuggled query parameter `{key}`: {url}"
            );
        }
        for header in ["x-injected", "x-functions-key", "authorization"] {
            assert!(request.headers.get(header).is_none(), "{header}: {url}");
        }
    }
    received.len()
}

fn report(front: &str, cases: &[ArgCase], failures: &[String], downstream: usize) {
    let counts = hostile::tally(cases.iter().map(|c| c.category));
    hostile::print_table(front, &counts);
    eprintln!("downstream requests recorded: {downstream}");
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    for category in [
        "wrong_type",
        "null",
        "extra_property",
        "unicode",
        "size",
        "numbers",
        "path_traversal",
    ] {
        assert!(
            counts.get(category).copied().unwrap_or_default() >= 3,
            "{category}: too few cases"
        );
    }
    assert!(cases.len() >= 100, "only {} cases", cases.len());
}

#[tokio::test]
async fn the_subset_through_the_host_emulator() {
    let started = Instant::now();
    let api = orders_api().await;
    let app = tempfile::tempdir().expect("tempdir");
    mcp_cases::lay_out_app(app.path());
    let mut opts = EmulatorOptions::new(app.path());
    opts.response_mode = ResponseMode::Json;
    opts.extra_env = downstream_env(&api);
    let emulator = RunningEmulator::start(opts).await.expect("emulator");
    let cases = subset(&mcp_tools::tools::builtin().expect("registry"));
    let failures = run_subset("host emulator", &emulator.mcp_url(), &cases).await;
    let output = emulator.handler_output();
    assert!(
        !output.contains("panicked"),
        "the handler panicked:\n{output}"
    );
    assert!(emulator.handler_starts() == 1, "the handler was restarted");
    emulator.shutdown().await;
    let downstream = assert_nothing_escaped(&api).await;
    report("host emulator (tools/call)", &cases, &failures, downstream);
    eprintln!("wall time {:?}", started.elapsed());
}

#[tokio::test]
async fn the_subset_through_handler_serve() {
    let started = Instant::now();
    let api = orders_api().await;
    let env = downstream_env(&api);
    let config = mcp_tools::downstream_config(|name| {
        env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    })
    .expect("settings");
    let registry = mcp_tools::build_registry(&config).expect("registry");
    let cases = subset(&registry);

    let served = common::serve::serve_registry(None, registry, Duration::from_secs(5)).await;
    let failures = run_subset("handler serve", &format!("{}/mcp", served.base), &cases).await;
    // Nothing was written outside the snippets folder's own files.
    for entry in std::fs::read_dir(served.snippets.path())
        .expect("dir")
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        assert!(
            name.starts_with("hostile-") && name.ends_with(".json"),
            "unexpected file {name:?}"
        );
    }
    let live = reqwest::get(format!("{}/", served.base))
        .await
        .expect("get");
    assert_eq!(live.status().as_u16(), 200);
    served.shutdown.cancel();
    let downstream = assert_nothing_escaped(&api).await;
    report("handler serve (tools/call)", &cases, &failures, downstream);
    eprintln!("wall time {:?}", started.elapsed());
}
