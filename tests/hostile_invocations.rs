//! The hostile-input corpus against the invocation endpoint, in process: every case gets its
//! stated answer within a bound, nothing escapes the downstream API's base path, no secret or
//! raw value comes back, and the app still serves afterwards.

mod common;
mod hostile;

use std::time::{Duration, Instant};

use axum::Router;
use common::{Answer, app_with, send};
use hostile::{ArgCase, CALLER_KEY, Expect, RequestCase};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Every case must be answered within this.
const BOUND: Duration = Duration::from_secs(5);
/// The downstream API lives under a path prefix, so "escaping the base path" is observable.
const BASE_PATH: &str = "/api/v1";
/// Text that must never come back in a refusal: the caller's key, and raw values the
/// corpus sends that an error message could echo.
const NEVER_ECHOED: &[&str] = &[
    CALLER_KEY,
    "h0stile-value",
    "etc/passwd",
    "X-Injected",
    "evil.example",
];

async fn orders_api() -> MockServer {
    let api = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{BASE_PATH}/orders")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"items": []})))
        .mount(&api)
        .await;
    api
}

fn registry(api: &MockServer) -> mcp_tools::Registry {
    let base = format!("{}{BASE_PATH}", api.uri());
    let config = mcp_tools::downstream_config(|name| match name {
        "DOWNSTREAM__ORDERS__BASE_URL" => Some(base.clone()),
        "DOWNSTREAM__ORDERS__AUTH" => Some("none".to_owned()),
        _ => None,
    })
    .expect("downstream settings");
    mcp_tools::build_registry(&config).expect("registry")
}

/// Why an answer is not the expected one; `None` when it is.
fn mismatch(answer: &Answer, expect: &Expect) -> Option<String> {
    let body = String::from_utf8_lossy(&answer.body);
    let shown: String = body.chars().take(300).collect();
    // A successful answer may carry the caller's own data back (a saved snippet's name).
    if !matches!(expect, Expect::Ok)
        && let Some(leak) = NEVER_ECHOED.iter().find(|s| body.contains(**s))
    {
        return Some(format!("echoed {leak:?}: {shown}"));
    }
    if answer.status.as_u16() >= 500 {
        return Some(format!("server error {}: {shown}", answer.status));
    }
    match expect {
        Expect::Ok | Expect::IsError(_) => {
            if answer.status != 200 {
                return Some(format!("status {}: {shown}", answer.status));
            }
            let result = std::panic::catch_unwind(|| answer.call_tool_result())
                .map_err(|_| format!("not a call_tool_result envelope: {shown}"));
            let result = match result {
                Ok(r) => r,
                Err(e) => return Some(e),
            };
            let is_error = result["isError"] == true;
            let text = result["content"][0]["text"].as_str().unwrap_or_default();
            match expect {
                Expect::Ok if is_error => Some(format!("isError: {text}")),
                Expect::IsError(_) if !is_error => Some(format!("not isError: {text}")),
                Expect::IsError(Some(arg)) if !text.contains(&format!("`{arg}`")) => {
                    Some(format!("does not name `{arg}`: {text}"))
                }
                Expect::IsError(_) if text.len() > 2048 => {
                    Some(format!("a {}-byte message", text.len()))
                }
                _ => None,
            }
        }
        Expect::Status(status) => {
            if answer.status.as_u16() != *status {
                return Some(format!("status {} not {status}: {shown}", answer.status));
            }
            let json: Value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
            if !json["error"]["message"].is_string() || !json["error"]["code"].is_string() {
                return Some(format!("no JSON error body: {shown}"));
            }
            if !answer.content_type.starts_with("application/json") {
                return Some(format!("content type {:?}", answer.content_type));
            }
            (answer.body.len() > 4096).then(|| format!("a {}-byte body", answer.body.len()))
        }
        Expect::StatusOnly(status) => (answer.status.as_u16() != *status)
            .then(|| format!("status {} not {status}", answer.status)),
    }
}

async fn send_request(app: &Router, case: &RequestCase) -> Answer {
    let mut request = axum::http::Request::builder()
        .method(case.method)
        .uri(&case.path)
        .header(
            "x-azure-functions-invocationid",
            "6a1f9a38-0000-4000-8000-000000000002",
        );
    if let Some(ct) = case.content_type {
        request = request.header("content-type", ct);
    }
    let request = request
        .body(axum::body::Body::from(case.body.clone()))
        .expect("request");
    common::oneshot(app, request).await
}

struct Failures(Vec<String>);

impl Failures {
    fn check(&mut self, what: &str, answer: Option<Answer>, expect: &Expect, took: Duration) {
        match answer {
            None => self.0.push(format!("{what}: no answer within {BOUND:?}")),
            Some(answer) => {
                if let Some(why) = mismatch(&answer, expect) {
                    self.0.push(format!("{what} (expected {expect:?}): {why}"));
                } else if took > BOUND {
                    self.0.push(format!("{what}: took {took:?}"));
                }
            }
        }
    }
}

#[tokio::test]
async fn every_hostile_invocation_gets_its_stated_answer() {
    let started = Instant::now();
    let api = orders_api().await;
    let registry = registry(&api);
    let arg_cases: Vec<ArgCase> = hostile::schema_cases(&registry)
        .into_iter()
        .chain(hostile::table_cases())
        .collect();
    let request_cases = hostile::request_cases(&registry);
    for spec in registry.specs() {
        assert!(
            hostile::valid_arguments(&spec.name).is_some(),
            "add valid arguments for `{}` to tests/common/hostile.rs",
            spec.name
        );
    }
    let app = app_with(registry, Duration::from_secs(5));
    let mut failures = Failures(Vec::new());

    for case in &arg_cases {
        let body = hostile::invocation_body(&case.tool, &case.arguments, "context", 2);
        let t = Instant::now();
        let answer =
            tokio::time::timeout(BOUND, send(&app, "POST", &format!("/{}", case.tool), body))
                .await
                .ok();
        let what = format!("[{}] {} {}", case.category, case.tool, case.name);
        failures.check(&what, answer, &case.expect, t.elapsed());
    }
    for case in &request_cases {
        let t = Instant::now();
        let answer = tokio::time::timeout(BOUND, send_request(&app, case))
            .await
            .ok();
        let what = format!(
            "[{}] {} {} {}",
            case.category, case.method, case.path, case.name
        );
        failures.check(&what, answer, &case.expect, t.elapsed());
    }

    // Still healthy: readiness and a good call.
    assert_eq!(send(&app, "GET", "/", "").await.status, 200);
    let good = hostile::invocation_body("hello_mcp", "{}", "context", 2);
    assert_eq!(
        common::post(&app, "hello_mcp", good).await.text(),
        "Hello I am MCPTool!"
    );

    // Nothing left the API's base path, smuggled a parameter or a header, or carried the
    // caller's key.
    let received = api.received_requests().await.expect("recorded");
    for request in &received {
        let url = &request.url;
        assert!(
            url.path() == format!("{BASE_PATH}/orders"),
            "a request escaped the route: {url}"
        );
        for (key, value) in url.query_pairs() {
            assert!(
                ["status", "customerId", "pageSize", "pageToken"].contains(&key.as_ref()),
                "a smuggled query parameter `{key}`: {url}"
            );
            // `1e2` and `1.0` are integers to the schema; the API must get `100`, not `1e2`.
            if key == "pageSize" {
                assert!(value.parse::<u64>().is_ok(), "pageSize={value}: {url}");
            }
        }
        assert!(request.headers.get("x-injected").is_none(), "{url}");
        assert!(request.headers.get("x-functions-key").is_none(), "{url}");
    }
    assert!(
        !received.is_empty(),
        "the query cases must reach the mock API"
    );

    let counts = hostile::tally(
        arg_cases
            .iter()
            .map(|c| c.category)
            .chain(request_cases.iter().map(|c| c.category)),
    );
    hostile::print_table("invocation endpoint (in process)", &counts);
    eprintln!(
        "downstream requests recorded: {}; wall time {:?}",
        received.len(),
        started.elapsed()
    );
    assert!(
        failures.0.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.0.len(),
        arg_cases.len() + request_cases.len(),
        failures.0.join("\n")
    );
    for (category, minimum) in [
        ("malformed_json", 30),
        ("invalid_bytes", 5),
        ("content_type", 10),
        ("empty_body", 8),
        ("envelope", 20),
        ("encoding_depth", 15),
        ("trigger_name", 10),
        ("wrong_type", 100),
        ("null", 20),
        ("extra_property", 14),
        ("unicode", 30),
        ("size", 8),
        ("nesting", 6),
        ("numbers", 15),
        ("path_traversal", 100),
        ("unknown_function", 20),
        ("wrong_method", 100),
    ] {
        let n = counts.get(category).copied().unwrap_or_default();
        assert!(
            n >= minimum,
            "{category}: {n} cases, expected at least {minimum}"
        );
    }
    assert!(counts.values().sum::<usize>() >= 300);
}

/// Reads whatever the server answers to `request` until it closes or `BOUND` passes.
async fn raw_exchange(addr: std::net::SocketAddr, request: &[u8]) -> Option<String> {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    // The server may answer and close before it read everything: a write error is fine.
    let _ = stream.write_all(request).await;
    let mut out = Vec::new();
    let read = tokio::time::timeout(BOUND, stream.read_to_end(&mut out)).await;
    match read {
        Ok(_) => Some(String::from_utf8_lossy(&out).into_owned()),
        Err(_) => None,
    }
}

#[tokio::test]
async fn oversized_headers_get_a_defined_answer_over_a_real_socket() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let state = handler::serve_functions::AppState {
        registry: std::sync::Arc::new(mcp_tools::tools::builtin().expect("registry")),
        call_timeout: Duration::from_secs(5),
    };
    let shutdown = tokio_util::sync::CancellationToken::new();
    let stop = shutdown.clone();
    tokio::spawn(handler::serve_functions::run(listener, state, async move {
        stop.cancelled().await
    }));

    let body = hostile::invocation_body("hello_mcp", "{}", "context", 2);
    let with_headers = |headers: String| {
        format!(
            "POST /hello_mcp HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\n{headers}content-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
    };
    let cases = [
        (
            "one 1 MiB header",
            format!("x-big: {}\r\n", "a".repeat(1 << 20)),
        ),
        (
            "10k headers",
            (0..10_000).map(|i| format!("x-h{i}: v\r\n")).collect(),
        ),
        (
            "a 1 MiB header name",
            format!("{}: v\r\n", "n".repeat(1 << 20)),
        ),
    ];
    for (label, headers) in cases {
        let answer = raw_exchange(addr, with_headers(headers).as_bytes()).await;
        let answer = answer.unwrap_or_else(|| panic!("{label}: no answer within {BOUND:?}"));
        // hyper refuses with 431, or closes the connection without a response: both are
        // defined; a 2xx (the headers slipped through) or a hang is not.
        let status_line = answer.lines().next().unwrap_or_default().to_owned();
        eprintln!(
            "{label}: {:?}",
            if status_line.is_empty() {
                "connection closed"
            } else {
                &status_line
            }
        );
        assert!(
            status_line.is_empty()
                || status_line.contains(" 431 ")
                || status_line.contains(" 400 "),
            "{label}: {status_line}"
        );
    }
    // Within hyper's buffer (about 400 KiB) a big header is simply served.
    let answer = raw_exchange(
        addr,
        with_headers(format!("x-big: {}\r\n", "a".repeat(64 << 10))).as_bytes(),
    )
    .await
    .expect("an answer");
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "64 KiB header: {answer}"
    );
    // A request URI of 1 MiB.
    let long_uri = format!(
        "GET /{} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n",
        "a".repeat(1 << 20)
    );
    let answer = raw_exchange(addr, long_uri.as_bytes())
        .await
        .expect("an answer");
    let status_line = answer.lines().next().unwrap_or_default().to_owned();
    eprintln!("1 MiB URI: {status_line:?}");
    assert!(
        status_line.is_empty()
            || status_line.contains(" 414 ")
            || status_line.contains(" 431 ")
            || status_line.contains(" 400 ")
            || status_line.contains(" 404 "),
        "{status_line}"
    );

    // Still serving.
    let ok = raw_exchange(addr, with_headers(String::new()).as_bytes())
        .await
        .expect("an answer");
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    assert!(ok.contains("Hello I am MCPTool!"), "{ok}");
    shutdown.cancel();
}
