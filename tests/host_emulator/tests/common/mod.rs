//! Helpers shared by the emulator's self-tests: a JSON-RPC client over plain reqwest.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use host_emulator::{EmulatorOptions, RunningEmulator};
use serde_json::{Value, json};

pub const ACCEPT_BOTH: &str = "application/json, text/event-stream";

pub fn fixture_app() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/app")
}

pub async fn start_with(f: impl FnOnce(&mut EmulatorOptions)) -> RunningEmulator {
    let mut opts = EmulatorOptions::new(fixture_app());
    f(&mut opts);
    RunningEmulator::start(opts).await.expect("emulator starts")
}

pub async fn start() -> RunningEmulator {
    start_with(|_| {}).await
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// The JSON-RPC message in an SSE or JSON response body.
pub fn parse_reply(content_type: &str, body: &str) -> Value {
    if content_type.starts_with("text/event-stream") {
        let data: Vec<&str> = body
            .lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .map(str::trim_start)
            .collect();
        assert_eq!(data.len(), 1, "one SSE data line expected in {body:?}");
        serde_json::from_str(data[0]).unwrap()
    } else {
        serde_json::from_str(body).unwrap()
    }
}

pub struct Rpc {
    pub http: reqwest::Client,
    pub url: String,
    pub key: Option<String>,
}

impl Rpc {
    pub fn new(emu: &RunningEmulator) -> Self {
        Self {
            http: http(),
            url: emu.mcp_url(),
            key: None,
        }
    }

    pub fn with_key(emu: &RunningEmulator, key: &str) -> Self {
        Self {
            http: http(),
            url: emu.mcp_url(),
            key: Some(key.into()),
        }
    }

    pub async fn post(&self, body: &Value) -> reqwest::Response {
        let mut req = self
            .http
            .post(&self.url)
            .header("Accept", ACCEPT_BOTH)
            .header("Content-Type", "application/json")
            .header("Authorization", "Bearer client-token")
            .header("X-Custom", "custom-value")
            .body(body.to_string());
        if let Some(k) = &self.key {
            req = req.header("x-functions-key", k);
        }
        req.send().await.unwrap()
    }

    /// The whole JSON-RPC reply of a request.
    pub async fn request(&self, method: &str, params: Value) -> Value {
        let resp = self
            .post(&json!({"jsonrpc": "2.0", "id": 7, "method": method, "params": params}))
            .await;
        assert_eq!(resp.status(), 200);
        let ct = resp
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let reply = parse_reply(&ct, &resp.text().await.unwrap());
        assert_eq!(reply["id"], 7);
        assert_eq!(reply["jsonrpc"], "2.0");
        reply
    }

    pub async fn result(&self, method: &str, params: Value) -> Value {
        let reply = self.request(method, params).await;
        assert!(reply.get("error").is_none(), "unexpected error: {reply}");
        reply["result"].clone()
    }

    pub async fn call(&self, name: &str, arguments: Value) -> Value {
        self.result("tools/call", json!({"name": name, "arguments": arguments}))
            .await
    }
}

/// The first text block of a tool result.
pub fn text(result: &Value) -> String {
    result["content"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// The echo tools put what the handler received, as JSON, in their text.
pub fn received(result: &Value) -> Value {
    assert_ne!(result["isError"], true, "tool failed: {result}");
    serde_json::from_str(&text(result)).unwrap()
}

pub fn generic_error(tool: &str) -> Value {
    json!({"isError": true, "content": [{"type": "text", "text": format!("An error occurred invoking '{tool}'.")}]})
}

/// Decodes JSON strings until a non-string (or a string that is not JSON) appears.
pub fn decode_all(v: &Value) -> Value {
    let mut v = v.clone();
    while let Value::String(s) = &v {
        match serde_json::from_str::<Value>(s) {
            Ok(next) => v = next,
            Err(_) => break,
        }
    }
    v
}
