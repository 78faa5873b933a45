//! The end-to-end cases, run with rmcp's client against either front door: through the host
//! emulator (model A) or against `handler serve`. Each case yields a normalised outcome so the
//! parity test can compare the two front doors case by case.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use rmcp::model::{CallToolRequestParams, JsonObject};
use rmcp::service::{RunningService, ServiceError};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Value, json};

pub const CLIENT_KEY: &str = "e2e-client-key-7f3a9c1d5b";
pub const CLIENT_BEARER: &str = "e2e-bearer-token-4e8b2a6f0c";

pub type Client = RunningService<RoleClient, ()>;

pub async fn connect(url: &str, key: Option<&str>) -> Client {
    let mut headers = HashMap::new();
    if let Some(key) = key {
        headers.insert(
            http::HeaderName::from_static("x-functions-key"),
            http::HeaderValue::from_str(key).expect("header"),
        );
    }
    let config = StreamableHttpClientTransportConfig::with_uri(url)
        .auth_header(CLIENT_BEARER)
        .custom_headers(headers);
    let transport = StreamableHttpClientTransport::from_config(config);
    ().serve(transport).await.expect("MCP initialize")
}

fn args(value: Value) -> JsonObject {
    value.as_object().cloned().unwrap_or_default()
}

/// `{"isError", "text", "structured"}` for a result, `{"error": code}` for a protocol error.
pub async fn call(client: &Client, tool: &str, arguments: Option<Value>) -> Value {
    let mut params = CallToolRequestParams::new(tool.to_owned());
    if let Some(a) = arguments {
        params = params.with_arguments(args(a));
    }
    match client.call_tool(params).await {
        Ok(result) => {
            let v = serde_json::to_value(&result).expect("result JSON");
            let texts: Vec<Value> = v["content"]
                .as_array()
                .map(|blocks| blocks.iter().map(|b| b["text"].clone()).collect())
                .unwrap_or_default();
            json!({
                "isError": v["isError"].as_bool().unwrap_or(false),
                "text": texts,
                "structured": v.get("structuredContent").cloned().unwrap_or(Value::Null),
            })
        }
        Err(ServiceError::McpError(e)) => json!({ "error": e.code.0 }),
        Err(other) => json!({ "transport_error": other.to_string() }),
    }
}

/// Name, input schema and output schema of every tool, by name.
pub async fn listed_tools(client: &Client) -> BTreeMap<String, Value> {
    client
        .list_all_tools()
        .await
        .expect("tools/list")
        .into_iter()
        .map(|t| {
            let v = serde_json::to_value(&t).expect("tool JSON");
            (
                t.name.to_string(),
                json!({"inputSchema": v["inputSchema"], "outputSchema": v.get("outputSchema").cloned().unwrap_or(Value::Null)}),
            )
        })
        .collect()
}

/// Every case, by name. `prefix` keeps snippet names of concurrent runs apart.
pub async fn run_all(client: &Client, prefix: &str) -> BTreeMap<&'static str, Value> {
    let name = |n: &str| format!("{prefix}-{n}");
    let mut out = BTreeMap::new();
    out.insert("hello", call(client, "hello_mcp", None).await);
    out.insert(
        "hello_case_insensitive",
        call(client, "HELLO_MCP", None).await,
    );
    for (case, text) in [
        ("base64_looking", "good text".to_owned()),
        ("json_looking", r#"{"a": 1}"#.to_owned()),
        ("unicode", "héllo ✓ 🚀\nline two\ttab".to_owned()),
        ("quoted", "\"quoted\"".to_owned()),
    ] {
        let n = name(case);
        let saved = call(
            client,
            "save_snippet",
            Some(json!({"snippetname": n, "snippet": text})),
        )
        .await;
        let got = call(client, "get_snippet", Some(json!({"snippetname": n}))).await;
        out.insert(case, json!({"saved_ok": saved["isError"] == false, "structured_bytes": saved["structured"]["bytes"], "got": got, "round_trip": got["text"][0] == text}));
    }
    out.insert(
        "missing_snippet",
        call(
            client,
            "get_snippet",
            Some(json!({"snippetname": name("never-saved")})),
        )
        .await,
    );
    out.insert(
        "wrong_type",
        call(
            client,
            "save_snippet",
            Some(json!({"snippetname": 42, "snippet": "x"})),
        )
        .await,
    );
    out.insert(
        "path_traversal",
        call(
            client,
            "get_snippet",
            Some(json!({"snippetname": "../../etc/passwd"})),
        )
        .await,
    );
    out.insert(
        "absolute_path",
        call(
            client,
            "save_snippet",
            Some(json!({"snippetname": "/etc/passwd", "snippet": "x"})),
        )
        .await,
    );
    out.insert(
        "oversized",
        call(
            client,
            "save_snippet",
            Some(json!({"snippetname": name("big"), "snippet": "x".repeat(1_048_577)})),
        )
        .await,
    );
    out.insert(
        "extra_argument",
        call(client, "hello_mcp", Some(json!({"unexpected": true}))).await,
    );
    out.insert(
        "reserved_null",
        call(
            client,
            "save_snippet",
            Some(json!({"snippetname": name("n"), "snippet": "null"})),
        )
        .await,
    );
    out.insert(
        "missing_required",
        call(
            client,
            "save_snippet",
            Some(json!({"snippetname": name("m")})),
        )
        .await,
    );
    out.insert("unknown_tool", call(client, "no_such_tool", None).await);
    out
}

/// What every front door must answer, whatever the transport.
pub fn assert_expected(results: &BTreeMap<&'static str, Value>) {
    let text = |case: &str| {
        results[case]["text"][0]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    let is_error = |case: &str| results[case]["isError"] == true;

    assert_eq!(text("hello"), "Hello I am MCPTool!");
    assert!(!is_error("hello"));
    assert_eq!(text("hello_case_insensitive"), "Hello I am MCPTool!");
    for case in ["base64_looking", "json_looking", "unicode", "quoted"] {
        assert_eq!(results[case]["saved_ok"], true, "{case}: {}", results[case]);
        assert_eq!(
            results[case]["round_trip"], true,
            "{case}: {}",
            results[case]
        );
    }
    assert_eq!(results["base64_looking"]["structured_bytes"], 9);
    assert!(is_error("missing_snippet"));
    assert!(
        text("missing_snippet").starts_with("No snippet named"),
        "{}",
        text("missing_snippet")
    );
    assert!(is_error("wrong_type"));
    assert_eq!(
        text("wrong_type"),
        "Invalid argument `snippetname`: expected a string, got an integer"
    );
    for case in ["path_traversal", "absolute_path"] {
        assert!(is_error(case), "{case}");
        assert!(
            text(case).starts_with("Invalid argument `snippetname`: must match the pattern"),
            "{case}: {}",
            text(case)
        );
    }
    assert!(is_error("oversized"));
    assert!(text("oversized").contains("`snippet`: must be at most 1048576 characters"));
    assert!(is_error("extra_argument"));
    assert_eq!(
        text("extra_argument"),
        "Invalid argument `unexpected`: is not an argument this tool accepts"
    );
    assert!(is_error("reserved_null"));
    assert_eq!(results["missing_required"], json!({"error": -32602}));
    assert_eq!(results["unknown_tool"], json!({"error": -32602}));
}

/// The schemas every front door must list.
pub fn assert_listed(tools: &BTreeMap<String, Value>) {
    let names: Vec<&String> = tools.keys().collect();
    for expected in ["get_snippet", "hello_mcp", "save_snippet"] {
        assert!(
            names.iter().any(|n| *n == expected),
            "{expected} missing from {names:?}"
        );
    }
    let save = &tools["save_snippet"]["inputSchema"];
    assert_eq!(save["type"], "object");
    assert_eq!(save["required"], json!(["snippetname", "snippet"]));
    assert_eq!(save["properties"]["snippetname"]["type"], "string");
    assert_eq!(save["properties"]["snippetname"]["maxLength"], 64);
    assert_eq!(
        tools["save_snippet"]["outputSchema"]["properties"]["bytes"]["type"],
        "integer"
    );
    assert_eq!(tools["hello_mcp"]["inputSchema"]["required"], json!([]));
}

/// A Functions app like `scripts/build` lays out, with the debug handler, in `dir`.
pub fn lay_out_app(dir: &Path) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(root.join("host.json"), dir.join("host.json")).expect("host.json");
    std::fs::copy(
        root.join("local.settings.json"),
        dir.join("local.settings.json"),
    )
    .expect("local.settings.json");
    let registry = mcp_tools::tools::builtin().expect("registry");
    handler::functions_json::write_all(&registry, dir).expect("function folders");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_handler"), dir.join("handler"))
        .expect("handler link");
}
