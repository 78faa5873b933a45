//! Requests that never become a tool call get a 4xx with a JSON body; tool failures are a
//! 200 with `isError` naming the argument (contract §5: a non-2xx loses its text).

mod common;

use axum::http::StatusCode;
use common::{builtin_app, fixture, post, send};
use serde_json::json;

#[tokio::test]
async fn readiness_answers_at_once() {
    let answer = send(&builtin_app(), "GET", "/", "").await;
    assert_eq!(answer.status, StatusCode::OK);
}

#[tokio::test]
async fn unknown_function_is_a_404_with_a_json_body() {
    let answer = post(&builtin_app(), "no_such_tool", fixture("hello_double")).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(answer.json()["error"]["code"], "unknown_function");
    assert!(answer.content_type.starts_with("application/json"));
}

#[tokio::test]
async fn other_paths_and_methods_are_4xx_with_a_body() {
    let app = builtin_app();
    for (method, uri, status) in [
        ("GET", "/hello_mcp", StatusCode::METHOD_NOT_ALLOWED),
        ("PUT", "/", StatusCode::METHOD_NOT_ALLOWED),
        ("DELETE", "/save_snippet", StatusCode::METHOD_NOT_ALLOWED),
        ("POST", "/a/b", StatusCode::NOT_FOUND),
        ("GET", "/runtime/webhooks/mcp", StatusCode::NOT_FOUND),
    ] {
        let answer = send(&app, method, uri, "").await;
        assert_eq!(answer.status, status, "{method} {uri}");
        assert!(
            answer.json()["error"]["message"].is_string(),
            "{method} {uri}"
        );
    }
}

#[tokio::test]
async fn malformed_bodies_are_400_with_a_reason() {
    let app = builtin_app();
    for body in [
        "",
        "{",
        "[]",
        "42",
        "{\"nothing\": 1}",
        "{\"Data\": {\"context\": \"{not json\"}}",
    ] {
        let answer = post(&app, "hello_mcp", body).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body:?}");
        assert!(answer.json()["error"]["message"].is_string());
    }
}

#[tokio::test]
async fn wrong_type_names_the_argument() {
    let answer = post(&builtin_app(), "save_snippet", fixture("save_wrong_type")).await;
    let result = answer.call_tool_result();
    assert_eq!(result["isError"], true);
    assert_eq!(
        answer.text(),
        "Invalid argument `snippetname`: expected a string, got an integer"
    );
    assert!(
        answer.json().get("Outputs").is_none(),
        "nothing may be written on failure"
    );
}

#[tokio::test]
async fn missing_required_that_slips_past_the_host_is_named() {
    let answer = post(
        &builtin_app(),
        "save_snippet",
        fixture("save_missing_required"),
    )
    .await;
    assert_eq!(
        answer.text(),
        "Invalid argument `snippet`: is required but missing"
    );
}

#[tokio::test]
async fn path_tricks_in_snippet_names_are_refused() {
    let app = builtin_app();
    let answer = post(&app, "get_snippet", fixture("get_traversal")).await;
    assert_eq!(answer.call_tool_result()["isError"], true);
    assert!(
        answer
            .text()
            .starts_with("Invalid argument `snippetname`: must match the pattern")
    );
    for name in [
        "../x",
        "%2e%2e",
        "/etc/passwd",
        "a/b",
        "a\\b",
        ".hidden",
        "",
        "x\u{0}y",
        "ａｂ",
    ] {
        let body = json!({"Data": {"context": json!({"arguments": {"snippetname": name, "snippet": "s"}}).to_string()}});
        let answer = post(&app, "save_snippet", body.to_string()).await;
        assert_eq!(answer.call_tool_result()["isError"], true, "{name:?}");
        assert!(
            answer.text().contains("`snippetname`"),
            "{name:?}: {}",
            answer.text()
        );
        assert!(answer.json().get("Outputs").is_none(), "{name:?}");
    }
}

#[tokio::test]
async fn oversized_arguments_are_an_is_error_not_a_413() {
    let big = "x".repeat(1_048_577);
    let body = json!({"Data": {"context": json!({"arguments": {"snippetname": "big", "snippet": big}}).to_string()}});
    let answer = post(&builtin_app(), "save_snippet", body.to_string()).await;
    assert_eq!(
        answer.text(),
        "Invalid argument `snippet`: must be at most 1048576 characters long (got 1048577)"
    );
}

#[tokio::test]
async fn bodies_past_the_hard_cap_are_413_with_a_body() {
    let body = vec![b' '; handler::serve_functions::MAX_BODY_BYTES + 1];
    let answer = post(&builtin_app(), "hello_mcp", body).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(answer.json()["error"]["code"], "body_too_large");
}

#[tokio::test]
async fn the_reserved_text_null_is_refused_rather_than_lost() {
    let body = json!({"Data": {"context": json!({"arguments": {"snippetname": "n", "snippet": "null"}}).to_string()}});
    let answer = post(&builtin_app(), "save_snippet", body.to_string()).await;
    assert!(
        answer
            .text()
            .starts_with("Invalid argument `snippet`: the text `null` cannot be stored")
    );
}
