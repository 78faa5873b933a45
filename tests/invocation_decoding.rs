//! Every shape of host request from contract §4 reaches the tool with the right arguments
//! and blobs. Bodies are the committed fixtures in tests/fixtures/invocations/.

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use common::{builtin_app, fixture, post};
use serde_json::json;

#[tokio::test]
async fn hello_in_every_encoding_without_arguments() {
    let app = builtin_app();
    for name in ["hello_double", "hello_single", "hello_plain"] {
        let answer = post(&app, "hello_mcp", fixture(name)).await;
        assert_eq!(answer.text(), "Hello I am MCPTool!", "{name}");
        let result = answer.call_tool_result();
        assert_eq!(result["isError"], false, "{name}");
        assert!(
            result.get("resultType").is_none(),
            "the host predates resultType"
        );
    }
}

#[tokio::test]
async fn save_snippet_from_every_argument_source() {
    let app = builtin_app();
    for name in [
        "save_double",
        "save_single",
        "save_plain",
        "save_mcptoolargs_only",
        "save_metadata_arguments_only",
    ] {
        let answer = post(&app, "save_snippet", fixture(name)).await;
        let result = answer.call_tool_result();
        assert_eq!(result["isError"], false, "{name}: {result}");
        assert_eq!(
            result["structuredContent"],
            json!({"snippetname": "greeting", "bytes": 9}),
            "{name}"
        );
        // "good text" is valid base64 once spaces are ignored: only an encoded value survives
        // the host's base64 decoding of outputs (contract §5).
        assert_eq!(
            answer.json()["Outputs"]["snippetout"],
            BASE64.encode("good text"),
            "{name}"
        );
    }
}

#[tokio::test]
async fn get_snippet_reads_the_blob_without_over_decoding() {
    let app = builtin_app();
    let answer = post(&app, "get_snippet", fixture("get_found_double")).await;
    assert_eq!(answer.text(), r#"{"a": 1}"#);
    let answer = post(&app, "get_snippet", fixture("get_found_double_quoted")).await;
    assert_eq!(answer.text(), r#""quoted""#);
    // Text that looks like base64 comes back as the text, not decoded.
    let answer = post(&app, "get_snippet", fixture("get_found_single")).await;
    assert_eq!(answer.text(), "aGVsbG8=");
}

#[tokio::test]
async fn a_missing_blob_is_a_readable_error_in_every_form() {
    let app = builtin_app();
    for name in [
        "get_missing_double",
        "get_missing_double_quoted",
        "get_missing_null",
    ] {
        let answer = post(&app, "get_snippet", fixture(name)).await;
        let result = answer.call_tool_result();
        assert_eq!(result["isError"], true, "{name}");
        assert_eq!(
            answer.text(),
            "No snippet named 'nothing' exists. Save it first with save_snippet.",
            "{name}"
        );
    }
}

#[tokio::test]
async fn dispatch_is_by_url_and_case_insensitive() {
    let app = builtin_app();
    // The context says GET_SNIPPET; the URL decides.
    let answer = post(&app, "get_snippet", fixture("get_case_insensitive_name")).await;
    assert_eq!(answer.text(), "hi");
    let answer = post(&app, "Get_Snippet", fixture("get_case_insensitive_name")).await;
    assert_eq!(answer.text(), "hi");
    // A body meant for another tool is still handled as the URL's tool.
    let answer = post(&app, "hello_mcp", fixture("hello_double")).await;
    assert_eq!(answer.text(), "Hello I am MCPTool!");
}

#[tokio::test]
async fn the_trigger_under_another_name_is_still_found() {
    let app = builtin_app();
    let body = fixture("save_single").replace("\"context\"", "\"mcpcontext\"");
    let answer = post(&app, "save_snippet", body).await;
    assert_eq!(answer.call_tool_result()["isError"], false);
}

#[tokio::test]
async fn triple_encoding_is_tolerated() {
    let app = builtin_app();
    let ctx = json!({"name": "save_snippet", "arguments": {"snippetname": "a", "snippet": "b"}});
    let triple = json!(json!(json!(ctx.to_string()).to_string()).to_string());
    let body = json!({"Data": {"context": triple}, "Metadata": {}});
    let answer = post(&app, "save_snippet", body.to_string()).await;
    assert_eq!(
        answer.call_tool_result()["structuredContent"]["snippetname"],
        "a"
    );
}
