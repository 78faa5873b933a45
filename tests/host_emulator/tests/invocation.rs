//! The host → handler side: the exact wire shape the tiny handler receives, blobs, the
//! conversion of its answers, generic errors, restarts and timeouts.

mod common;

use std::time::{Duration, Instant};

use common::*;
use host_emulator::Encoding;
use serde_json::{Value, json};

/// What the tiny handler saw, as it saw it.
fn wire_body(received: &Value) -> Value {
    serde_json::from_str(received["raw"].as_str().unwrap()).unwrap()
}

#[tokio::test]
async fn double_encoded_invocation_wire_shape() {
    let emu = start_with(|o| o.extra_env.push(("TINY_EXTRA".into(), "extra".into()))).await;
    let rpc = Rpc::new(&emu);
    let args = json!({"message": "hi", "tags": ["a", "b"], "flag": true, "off": false,
                      "count": 3, "ratio": 1.5, "mode": "fast", "nothing": null, "obj": {"k": [1]}});
    let r = received(&rpc.call("ECHO", args.clone()).await);

    assert_eq!(r["path"], "/echo_fn");
    assert_eq!(
        r["headers"]["content-type"],
        "application/json; charset=utf-8"
    );
    assert_eq!(
        r["headers"]["x-azure-functions-invocationid"]
            .as_str()
            .unwrap()
            .len(),
        36
    );

    let body = wire_body(&r);
    // A JSON string whose content is a JSON string whose content is the object.
    let level1 = body["Data"]["context"]
        .as_str()
        .expect("Data.context is a string");
    let level2: Value = serde_json::from_str(level1).unwrap();
    let level2 = level2.as_str().expect("its content is a JSON string");
    let ctx: Value = serde_json::from_str(level2).unwrap();
    assert_eq!(ctx["name"], "ECHO");
    assert_eq!(ctx["arguments"], args);
    assert!(ctx.get("sessionid").is_none());
    assert_eq!(ctx["transport"]["name"], "http-streamable");
    let headers = &ctx["transport"]["properties"]["headers"];
    assert_eq!(headers["authorization"], "Bearer client-token");
    assert_eq!(headers["x-custom"], "custom-value");
    assert_eq!(headers["accept"], ACCEPT_BOTH);

    assert_eq!(
        body["Metadata"]["mcptoolargs"],
        json!({"message": "hi", "tags": "[\"a\",\"b\"]", "flag": "True", "off": "False",
               "count": "3", "ratio": "1.5", "mode": "fast", "obj": "{\"k\":[1]}"})
    );
    assert_eq!(body["Metadata"]["arguments"], args);
    let sys = &body["Metadata"]["sys"];
    assert_eq!(sys["MethodName"], "echo_fn");
    assert!(sys["UtcNow"].as_str().unwrap().ends_with('Z'));
    assert_eq!(sys["RandGuid"].as_str().unwrap().len(), 36);
    assert_eq!(emu.invocations(), vec![body]);

    let env = &r["env"];
    assert!(
        env["FUNCTIONS_CUSTOMHANDLER_PORT"]
            .as_str()
            .unwrap()
            .parse::<u16>()
            .is_ok()
    );
    assert_eq!(
        env["FUNCTIONS_CUSTOMHANDLER_WORKER_ID"]
            .as_str()
            .unwrap()
            .len(),
        36
    );
    let root = std::fs::canonicalize(fixture_app()).unwrap();
    assert_eq!(env["FUNCTIONS_APP_ROOT_PATH"], root.to_str().unwrap());
    assert_eq!(env["TINY_SETTING"], "setting-value");
    assert_eq!(env["TINY_EXTRA"], "extra");
    assert_eq!(r["cwd"], root.to_str().unwrap());
    assert_eq!(
        r["argv"],
        json!(["--tag", "from-settings", "%UNDEFINED_TINY_VAR%"])
    );

    assert_eq!(emu.logs(), ["echo called", "second log line"]);
    assert!(emu.handler_output().contains("tiny handler listening"));
    emu.shutdown().await;
}

#[tokio::test]
async fn single_encoding_and_session_id() {
    let emu = start_with(|o| o.encoding = Encoding::Single).await;
    let rpc = Rpc::new(&emu);
    let resp = rpc
        .http
        .post(&rpc.url)
        .header("Accept", ACCEPT_BOTH)
        .header("Mcp-Session-Id", "sess-1")
        .body(
            json!({"jsonrpc":"2.0","id":1,"method":"tools/call",
                     "params":{"name":"echo","arguments":{"message":"x"}}})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    let reply = parse_reply("text/event-stream", &resp.text().await.unwrap());
    let body = wire_body(&received(&reply["result"]));
    let ctx: Value = serde_json::from_str(body["Data"]["context"].as_str().unwrap()).unwrap();
    assert!(ctx.is_object(), "single encoding: one level only");
    assert_eq!(ctx["sessionid"], "sess-1");
    assert_eq!(ctx["transport"]["sessionId"], "sess-1");
    emu.shutdown().await;
}

#[tokio::test]
async fn no_arguments_means_absent_arguments() {
    let emu = start().await;
    let rpc = Rpc::new(&emu);
    rpc.result("tools/call", json!({"name": "plain"})).await;
    let body = &emu.invocations()[0];
    let ctx = decode_all(&body["Data"]["context"]);
    assert!(ctx.get("arguments").is_none());
    assert!(body["Metadata"].get("arguments").is_none());
    assert_eq!(body["Metadata"]["mcptoolargs"], json!({}));
    emu.shutdown().await;
}

#[tokio::test]
async fn blob_input_bindings_in_both_encodings() {
    for encoding in [Encoding::Double, Encoding::Single] {
        let emu = start_with(|o| o.encoding = encoding).await;
        let rpc = Rpc::new(&emu);
        let missing = wire_body(&received(
            &rpc.call("snippet", json!({"snippetname": "nope"})).await,
        ));
        let expected_missing = match encoding {
            Encoding::Double => json!("null"),
            Encoding::Single => Value::Null,
        };
        assert_eq!(missing["Data"]["snippetin"], expected_missing);

        let dir = emu.blob_root().join("snippets");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("hello.json"), r#"{"a":1}"#).unwrap();
        let present = wire_body(&received(
            &rpc.call("snippet", json!({"snippetname": "hello"})).await,
        ));
        let expected = match encoding {
            Encoding::Double => json!(json!(r#"{"a":1}"#).to_string()),
            Encoding::Single => json!(r#"{"a":1}"#),
        };
        assert_eq!(present["Data"]["snippetin"], expected);
        emu.shutdown().await;
    }
}

#[tokio::test]
async fn blob_outputs_are_base64_decoded_when_they_can_be() {
    let blobs = tempfile::tempdir().unwrap();
    let emu = start_with(|o| o.blob_root = Some(blobs.path().to_path_buf())).await;
    let rpc = Rpc::new(&emu);
    let out =
        |name: &str| std::fs::read(blobs.path().join("out").join(format!("{name}.txt"))).unwrap();

    rpc.call(
        "snippet",
        json!({"snippetname": "b64", "content": "aGVs\nbG8gd29ybGQ="}),
    )
    .await;
    assert_eq!(out("b64"), b"hello world");
    // Plain text that happens to be valid base64 once spaces are dropped is garbled.
    rpc.call(
        "snippet",
        json!({"snippetname": "garbled", "content": "good text"}),
    )
    .await;
    assert_eq!(out("garbled").len(), 6);
    assert_ne!(out("garbled"), b"good text");
    rpc.call(
        "snippet",
        json!({"snippetname": "plain", "content": "hello, world!"}),
    )
    .await;
    assert_eq!(out("plain"), b"hello, world!");
    // Stored encoded, the same text survives.
    rpc.call(
        "snippet",
        json!({"snippetname": "safe", "content": "Z29vZCB0ZXh0"}),
    )
    .await;
    assert_eq!(out("safe"), b"good text");
    // dataType binary: never decoded.
    rpc.call("snippet", json!({"snippetname": "raw", "raw": "aGVsbG8="}))
        .await;
    assert_eq!(
        std::fs::read(blobs.path().join("bin/raw.bin")).unwrap(),
        b"aGVsbG8="
    );

    // `..` in a blob name is a literal name: it stays inside the blob folder.
    let r = received(
        &rpc.call(
            "snippet",
            json!({"snippetname": "../../x", "content": "dG9w"}),
        )
        .await,
    );
    assert_eq!(wire_body(&r)["Data"]["snippetin"], "null");
    assert_eq!(
        std::fs::read(blobs.path().join("out/%2E%2E/%2E%2E/x.txt")).unwrap(),
        b"top"
    );
    assert!(!blobs.path().join("x.txt").exists());
    emu.shutdown().await;
}

#[tokio::test]
async fn result_envelopes() {
    let emu = start().await;
    let rpc = Rpc::new(&emu);
    let env = |ty: &str, content: Value, structured: Option<Value>| {
        let mut e = json!({"type": ty, "content": content.to_string()});
        if let Some(s) = structured {
            e["structuredContent"] = json!(s.to_string());
        }
        json!({"rv": e.to_string()})
    };
    let text = rpc
        .call(
            "envelope",
            env(
                "text",
                json!({"type": "text", "text": "hi"}),
                Some(json!({"x": 1})),
            ),
        )
        .await;
    assert_eq!(
        text,
        json!({"content": [{"type": "text", "text": "hi"}], "structuredContent": {"x": 1}})
    );

    let image = json!({"type": "image", "data": "AAAA", "mimeType": "image/png"});
    let multi = rpc
        .call(
            "envelope",
            env(
                "multi_content_result",
                json!([{"type": "text", "text": "a"}, image]),
                None,
            ),
        )
        .await;
    assert_eq!(
        multi,
        json!({"content": [{"type": "text", "text": "a"}, image]})
    );

    let ctr = rpc
        .call(
            "envelope",
            env(
                "call_tool_result",
                json!({"content": [{"type": "text", "text": "bad arg"}], "isError": true,
                       "structuredContent": {"inner": true}}),
                Some(json!({"ignored": true})),
            ),
        )
        .await;
    assert_eq!(
        ctr,
        json!({"content": [{"type": "text", "text": "bad arg"}], "isError": true,
               "structuredContent": {"inner": true}})
    );

    let schema = rpc.call("schema_tool", json!({"q": "why"})).await;
    assert_eq!(schema["structuredContent"], json!({"answer": "q was why"}));
    emu.shutdown().await;
}

#[tokio::test]
async fn plain_return_values() {
    let emu = start().await;
    let rpc = Rpc::new(&emu);
    assert_eq!(
        rpc.call("plain", json!({"rv": "just text"})).await,
        json!({"content": [{"type": "text", "text": "just text"}]})
    );
    assert_eq!(
        text(&rpc.call("plain", json!({"rv": {"a": [1, 2]}})).await),
        "{\n  \"a\": [\n    1,\n    2\n  ]\n}"
    );
    assert_eq!(rpc.call("plain", json!({})).await, json!({"content": []}));
    assert_eq!(
        rpc.call("plain", json!({"rv": null})).await,
        json!({"content": []})
    );
    assert!(emu.failures().is_empty());
    emu.shutdown().await;
}

#[tokio::test]
async fn failures_become_the_generic_error() {
    let emu = start().await;
    let rpc = Rpc::new(&emu);
    assert_eq!(
        rpc.call("fail500", json!({})).await,
        generic_error("fail500")
    );
    assert_eq!(
        rpc.call("GARBAGE", json!({})).await,
        generic_error("GARBAGE")
    );
    let cases = [
        json!({"rv": {"type": "text", "content": "{}"}}), // not a string
        json!({"rv": json!({"type": "text", "content": ""}).to_string()}), // empty content
        json!({"rv": json!({"type": "text"}).to_string()}),
        json!({"rv": json!({"type": "video", "content": "{}"}).to_string()}),
        json!({"rv": "not json"}),
        json!({"rv": json!({"type": "text", "content": json!({"type": "text"}).to_string()}).to_string()}),
        json!({}), // ReturnValue missing
    ];
    for args in cases {
        assert_eq!(
            rpc.call("envelope", args.clone()).await,
            generic_error("envelope"),
            "{args}"
        );
    }
    assert_eq!(emu.failures().len(), 9);
    emu.shutdown().await;
}

#[tokio::test]
async fn a_dead_handler_is_restarted() {
    let emu = start().await;
    let rpc = Rpc::new(&emu);
    assert_eq!(emu.handler_starts(), 1);
    assert_eq!(rpc.call("crash", json!({})).await, generic_error("crash"));
    received(&rpc.call("echo", json!({"message": "again"})).await);
    assert_eq!(emu.handler_starts(), 2);
    assert!(emu.handler_output().contains("crashing on purpose"));

    emu.kill_handler().await;
    received(&rpc.call("echo", json!({"message": "after kill"})).await);
    assert_eq!(emu.handler_starts(), 3);
    emu.shutdown().await;
}

#[tokio::test]
async fn invocation_timeout() {
    let emu = start_with(|o| o.invocation_timeout = Duration::from_millis(300)).await;
    let rpc = Rpc::new(&emu);
    let t = Instant::now();
    assert_eq!(
        rpc.call("slow", json!({"seconds": 3})).await,
        generic_error("slow")
    );
    assert!(t.elapsed() < Duration::from_secs(2));
    assert_eq!(
        text(&rpc.call("slow", json!({"seconds": 0})).await),
        "slept"
    );
    emu.shutdown().await;
}
