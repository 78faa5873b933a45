//! The client-facing side: HTTP rules, auth, protocol negotiation, tools/list, -32602.

mod common;

use common::*;
use host_emulator::ResponseMode;
use serde_json::{Value, json};

const INIT: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;

#[tokio::test]
async fn http_rules_405_406_202_400() {
    let emu = start().await;
    let c = http();
    let get = c
        .get(emu.mcp_url())
        .header("Accept", ACCEPT_BOTH)
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 405);
    let del = c.delete(emu.mcp_url()).send().await.unwrap();
    assert_eq!(del.status(), 405);

    for accept in [
        None,
        Some("application/json"),
        Some("text/event-stream"),
        Some("*/*"),
    ] {
        let mut req = c.post(emu.mcp_url()).body(INIT);
        if let Some(a) = accept {
            req = req.header("Accept", a);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 406, "Accept {accept:?}");
        let body: Value = resp.json_body().await;
        assert_eq!(body["error"]["code"], -32000);
    }
    // Both listed, with parameters and other entries around them.
    let ok = c
        .post(emu.mcp_url())
        .header(
            "Accept",
            "text/html, application/json;q=0.9, text/event-stream;q=0.8",
        )
        .body(INIT)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert!(
        ok.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    assert!(ok.headers().get("mcp-session-id").is_none());

    let rpc = Rpc::new(&emu);
    let note = rpc
        .post(&json!({"jsonrpc":"2.0","method":"notifications/initialized"}))
        .await;
    assert_eq!(note.status(), 202);
    assert_eq!(note.text().await.unwrap(), "");

    let bad = c
        .post(emu.mcp_url())
        .header("Accept", ACCEPT_BOTH)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    emu.shutdown().await;
}

trait JsonBody {
    async fn json_body(self) -> Value;
}
impl JsonBody for reqwest::Response {
    async fn json_body(self) -> Value {
        serde_json::from_str(&self.text().await.unwrap()).unwrap()
    }
}

#[tokio::test]
async fn key_via_header_or_code_query() {
    let emu = start_with(|o| o.key = Some("s3cret key".into())).await;
    let c = http();
    let post = |url: String| c.post(url).header("Accept", ACCEPT_BOTH).body(INIT);
    assert_eq!(post(emu.mcp_url()).send().await.unwrap().status(), 401);
    let wrong = post(emu.mcp_url())
        .header("x-functions-key", "nope")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let header = post(emu.mcp_url())
        .header("x-functions-key", "s3cret key")
        .send()
        .await
        .unwrap();
    assert_eq!(header.status(), 200);
    let query = post(format!("{}?code=s3cret%20key", emu.mcp_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(query.status(), 200);
    let wrong_q = post(format!("{}?code=s3cret", emu.mcp_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_q.status(), 401);
    // The host authorizes before the extension sees the method.
    assert_eq!(c.get(emu.mcp_url()).send().await.unwrap().status(), 401);

    let rpc = Rpc::with_key(&emu, "s3cret key");
    rpc.call("echo", json!({"message": "hi"})).await;
    let ctx = decode_all(&emu.invocations()[0]["Data"]["context"]);
    let headers = &ctx["transport"]["properties"]["headers"];
    assert_eq!(headers["x-functions-key"], "s3cret key");
    assert_eq!(headers["authorization"], "Bearer client-token");
    emu.shutdown().await;
}

#[tokio::test]
async fn anonymous_level_turns_the_key_off() {
    let dir = tempfile::tempdir().unwrap();
    let src = fixture_app();
    for f in ["tiny_handler.py", "local.settings.json"] {
        std::fs::copy(src.join(f), dir.path().join(f)).unwrap();
    }
    std::fs::create_dir(dir.path().join("echo_fn")).unwrap();
    std::fs::copy(
        src.join("echo_fn/function.json"),
        dir.path().join("echo_fn/function.json"),
    )
    .unwrap();
    let mut host: Value =
        serde_json::from_str(&std::fs::read_to_string(src.join("host.json")).unwrap()).unwrap();
    host["extensions"]["mcp"]["system"] = json!({"webhookAuthorizationLevel": "Anonymous"});
    std::fs::write(dir.path().join("host.json"), host.to_string()).unwrap();

    let emu = host_emulator::RunningEmulator::start({
        let mut o = host_emulator::EmulatorOptions::new(dir.path());
        o.key = Some("k".into());
        o
    })
    .await
    .unwrap();
    let rpc = Rpc::new(&emu);
    assert_eq!(rpc.result("ping", json!({})).await, json!({}));
    emu.shutdown().await;
}

#[tokio::test]
async fn initialize_negotiates_versions() {
    let emu = start().await;
    let rpc = Rpc::new(&emu);
    for (asked, got) in [
        ("2024-11-05", "2024-11-05"),
        ("2025-03-26", "2025-03-26"),
        ("2025-06-18", "2025-06-18"),
        ("2025-11-25", "2025-06-18"),
        ("2026-07-28", "2025-06-18"),
        ("banana", "2025-06-18"),
    ] {
        let r = rpc
            .result(
                "initialize",
                json!({"protocolVersion": asked, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}),
            )
            .await;
        assert_eq!(r["protocolVersion"], got, "asked {asked}");
        assert_eq!(
            r["serverInfo"],
            json!({"name": "tiny-app", "version": "9.9.9"})
        );
        assert_eq!(r["instructions"], "Tiny fixture for the host emulator.");
        assert!(r["capabilities"]["tools"].is_object());
    }
    let discover = rpc.request("server/discover", json!({})).await;
    assert_eq!(discover["error"]["code"], -32601);
    let unknown = rpc.request("resources/list", json!({})).await;
    assert_eq!(unknown["error"]["code"], -32601);
    assert_eq!(rpc.result("ping", Value::Null).await, json!({}));
    emu.shutdown().await;
}

#[tokio::test]
async fn tools_list_schemas() {
    let emu = start().await;
    let rpc = Rpc::new(&emu);
    let tools = rpc.result("tools/list", json!({})).await["tools"].clone();
    let names: Vec<&str> = tools
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [
            "crash",
            "echo",
            "envelope",
            "fail500",
            "garbage",
            "plain",
            "schema_tool",
            "slow",
            "snippet"
        ]
    );
    let tool = |n: &str| {
        tools
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == n)
            .unwrap()
            .clone()
    };

    let echo = tool("echo");
    assert_eq!(echo["description"], "Echoes what the handler received.");
    assert_eq!(
        echo["inputSchema"],
        json!({
            "type": "object",
            "properties": {
                "message": {"type": "string", "description": "Text"},
                "tags": {"type": "array", "items": {"type": "string"}, "description": "Tags"},
                "mode": {"type": "string", "enum": ["fast", "slow"], "description": "Mode"},
                "flag": {"type": "boolean", "description": "A flag"},
                "count": {"type": "integer", "description": "A count"}
            },
            "required": ["message"]
        })
    );
    assert!(echo.get("outputSchema").is_none());
    assert!(echo.get("_meta").is_none());

    // `required` is there even when empty.
    assert_eq!(
        tool("plain")["inputSchema"],
        json!({"type": "object", "properties": {}, "required": []})
    );

    let schema = tool("schema_tool");
    assert_eq!(schema["inputSchema"]["additionalProperties"], false);
    assert_eq!(schema["inputSchema"]["properties"]["q"]["minLength"], 1);
    assert_eq!(schema["outputSchema"]["required"], json!(["answer"]));
    assert_eq!(
        schema["_meta"],
        json!({"annotations": {"readOnlyHint": true}, "owner": "tests"})
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn invalid_params_never_reach_the_handler() {
    let emu = start().await;
    let rpc = Rpc::new(&emu);
    let unknown = rpc
        .request("tools/call", json!({"name": "nope", "arguments": {}}))
        .await;
    assert_eq!(unknown["error"]["code"], -32602);
    let nested = rpc
        .request("tools/call", json!({"name": "nested_tool"}))
        .await;
    assert_eq!(nested["error"]["code"], -32602);
    let missing = rpc
        .request(
            "tools/call",
            json!({"name": "echo", "arguments": {"tags": []}}),
        )
        .await;
    assert_eq!(missing["error"]["code"], -32602);
    assert!(
        missing["error"]["message"]
            .as_str()
            .unwrap()
            .contains("message")
    );
    let no_args = rpc.request("tools/call", json!({"name": "ECHO"})).await;
    assert_eq!(no_args["error"]["code"], -32602);
    let worker_schema = rpc
        .request(
            "tools/call",
            json!({"name": "schema_tool", "arguments": {}}),
        )
        .await;
    assert_eq!(worker_schema["error"]["code"], -32602);
    let not_object = rpc
        .request("tools/call", json!({"name": "echo", "arguments": [1]}))
        .await;
    assert_eq!(not_object["error"]["code"], -32602);
    assert!(emu.invocations().is_empty());

    // Types are not checked by the host: a wrong type goes through.
    let typed = rpc.call("Echo", json!({"message": 42})).await;
    assert_ne!(typed["isError"], true);
    assert_eq!(emu.invoked_functions(), ["echo_fn"]);
    emu.shutdown().await;
}

#[tokio::test]
async fn json_response_mode() {
    let emu = start_with(|o| o.response_mode = ResponseMode::Json).await;
    let resp = Rpc::new(&emu)
        .post(&json!({"jsonrpc":"2.0","id":"a","method":"ping"}))
        .await;
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let v: Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
    assert_eq!(v, json!({"jsonrpc":"2.0","id":"a","result":{}}));
    emu.shutdown().await;
}
