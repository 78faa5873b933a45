//! `handler serve` end to end with rmcp's client: the same cases as under the host, the
//! host-compatible key check, and DNS-rebinding protection.

mod common;

use std::time::Duration;

use common::mcp_cases::{self, CLIENT_KEY};
use common::serve::Served;
use handler::serve_mcp;

async fn serve(key: Option<&str>) -> Served {
    serve_registry(key, mcp_tools::tools::builtin().expect("registry")).await
}

async fn serve_registry(key: Option<&str>, registry: mcp_tools::Registry) -> Served {
    common::serve::serve_registry(key, registry, Duration::from_secs(10)).await
}

#[tokio::test]
async fn every_case_at_both_paths() {
    let served = serve(None).await;
    for path in serve_mcp::MCP_PATHS {
        let client = mcp_cases::connect(&format!("{}{path}", served.base), None).await;
        mcp_cases::assert_listed(&mcp_cases::listed_tools(&client).await);
        mcp_cases::assert_expected(&mcp_cases::run_all(&client, "self").await);
    }
    // The snippet binding lands in SNIPPETS_DIR.
    assert!(served.snippets.path().join("self-unicode.json").exists());
    served.shutdown.cancel();
}

#[tokio::test]
async fn annotations_are_real_mcp_annotations() {
    let served = serve(None).await;
    let client = mcp_cases::connect(&format!("{}/mcp", served.base), None).await;
    let tools = client.list_all_tools().await.expect("list");
    let save = tools
        .iter()
        .find(|t| t.name == "save_snippet")
        .expect("save_snippet");
    let annotations = save.annotations.as_ref().expect("annotations");
    assert_eq!(annotations.destructive_hint, Some(true));
    let hello = tools
        .iter()
        .find(|t| t.name == "hello_mcp")
        .expect("hello_mcp");
    assert_eq!(
        hello.annotations.as_ref().and_then(|a| a.read_only_hint),
        Some(true)
    );
    served.shutdown.cancel();
}

fn rpc_body() -> &'static str {
    r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#
}

async fn post(url: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let mut request = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(rpc_body());
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = request.send().await.expect("send");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

#[tokio::test]
async fn the_key_is_required_like_the_host_requires_it() {
    let served = serve(Some(CLIENT_KEY)).await;
    let url = format!("{}/runtime/webhooks/mcp", served.base);
    let (status, body) = post(&url, &[]).await;
    assert_eq!(status, 401);
    assert!(body.contains("x-functions-key"), "{body}");
    assert_eq!(post(&url, &[("x-functions-key", "wrong")]).await.0, 401);
    assert_eq!(post(&url, &[("x-functions-key", CLIENT_KEY)]).await.0, 200);
    assert_eq!(post(&format!("{url}?code={CLIENT_KEY}"), &[]).await.0, 200);
    assert_eq!(post(&format!("{url}?code=nope"), &[]).await.0, 401);
    // A real client with the key works end to end.
    let client = mcp_cases::connect(&url, Some(CLIENT_KEY)).await;
    assert_eq!(
        mcp_cases::call(&client, "hello_mcp", None).await["isError"],
        false
    );
    // Liveness stays open.
    let live = reqwest::get(format!("{}/", served.base))
        .await
        .expect("get");
    assert_eq!(live.status().as_u16(), 200);
    served.shutdown.cancel();
}

#[tokio::test]
async fn foreign_hosts_and_origins_are_refused() {
    let served = serve(None).await;
    let url = format!("{}/mcp", served.base);
    let (status, _) = post(&url, &[("host", "evil.example")]).await;
    assert!(
        status == 403 || status == 421 || status == 400,
        "Host check: {status}"
    );
    let (status, _) = post(&url, &[("origin", "https://evil.example")]).await;
    assert!(status == 403 || status == 400, "Origin check: {status}");
    assert_eq!(
        post(&url, &[("origin", "http://localhost:6274")]).await.0,
        200
    );
    served.shutdown.cancel();
}

#[test]
fn no_key_on_a_public_address_is_refused() {
    let public = "0.0.0.0:7071".parse().expect("addr");
    assert!(serve_mcp::check_exposure(public, false, false).is_err());
    assert!(serve_mcp::check_exposure(public, true, false).is_ok());
    assert!(serve_mcp::check_exposure(public, false, true).is_ok());
    assert!(
        serve_mcp::check_exposure("127.0.0.1:7071".parse().expect("addr"), false, false).is_ok()
    );
}

#[tokio::test]
async fn progress_reaches_the_client_before_the_result() {
    let mut registry = mcp_tools::tools::builtin().expect("registry");
    mcp_tools::tools::register_conformance_tools(&mut registry).expect("fixtures");
    let served = serve_registry(None, registry).await;
    let call = |token: Option<&str>| {
        let meta = token.map_or(
            serde_json::Value::Null,
            |t| serde_json::json!({"progressToken": t}),
        );
        let mut params = serde_json::json!({"name": "test_tool_with_progress", "arguments": {}});
        if !meta.is_null() {
            params["_meta"] = meta;
        }
        reqwest::Client::new()
            .post(format!("{}/mcp", served.base))
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", "2025-06-18")
            .body(serde_json::json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": params}).to_string())
            .send()
    };
    let response = call(Some("p-1")).await.expect("send");
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = response.text().await.expect("body");
    assert!(
        content_type.starts_with("text/event-stream"),
        "{content_type}: {body}"
    );
    let messages: Vec<serde_json::Value> = body
        .lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .filter_map(|d| serde_json::from_str(d.trim()).ok())
        .collect();
    let progress: Vec<f64> = messages
        .iter()
        .filter(|m| m["method"] == "notifications/progress")
        .inspect(|m| assert_eq!(m["params"]["progressToken"], "p-1"))
        .filter_map(|m| m["params"]["progress"].as_f64())
        .collect();
    assert_eq!(progress, vec![0.0, 50.0, 100.0], "{body}");
    let last = messages.last().expect("messages");
    assert_eq!(last["id"], 7, "the result comes after the progress: {body}");
    assert_eq!(last["result"]["isError"], false);

    // Without a token the answer stays plain JSON.
    let response = call(None).await.expect("send");
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    served.shutdown.cancel();
}
