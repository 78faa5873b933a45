//! The envelope rules of contract §5 hold for every kind of outcome, including tools that
//! hang or panic.

mod common;

use std::time::Duration;

use common::{app_with, builtin_app, fixture, post};
use mcp_tools::tool::NoArguments;
use mcp_tools::{Registry, ToolContext, ToolError, ToolOutput, TypedTool};
use serde_json::Value;

struct Sleepy;
impl TypedTool for Sleepy {
    type Input = NoArguments;
    type Output = ToolOutput;
    const NAME: &'static str = "sleepy";
    const DESCRIPTION: &'static str = "Never finishes in time.";
    async fn call(&self, _: NoArguments, _: ToolContext) -> Result<ToolOutput, ToolError> {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        Ok(ToolOutput::text("late"))
    }
}

struct Panicky;
impl TypedTool for Panicky {
    type Input = NoArguments;
    type Output = ToolOutput;
    const NAME: &'static str = "panicky";
    const DESCRIPTION: &'static str = "Panics.";
    async fn call(&self, _: NoArguments, _: ToolContext) -> Result<ToolOutput, ToolError> {
        panic!("secret detail that must not reach the model")
    }
}

struct Silent;
impl TypedTool for Silent {
    type Input = NoArguments;
    type Output = ToolOutput;
    const NAME: &'static str = "silent";
    const DESCRIPTION: &'static str = "Returns no content at all.";
    async fn call(&self, _: NoArguments, _: ToolContext) -> Result<ToolOutput, ToolError> {
        Ok(ToolOutput::content(Vec::new()))
    }
}

fn misbehaving_app(timeout: Duration) -> axum::Router {
    let mut registry = Registry::new();
    registry.register_typed(Sleepy).expect("register");
    registry.register_typed(Panicky).expect("register");
    registry.register_typed(Silent).expect("register");
    app_with(registry, timeout)
}

const NO_ARGS: &str = r#"{"Data": {"context": "{\"name\": \"x\"}"}, "Metadata": {}}"#;

#[tokio::test]
async fn a_hanging_tool_ends_at_its_deadline_with_a_retry_hint() {
    let app = misbehaving_app(Duration::from_millis(200));
    let started = std::time::Instant::now();
    let answer = post(&app, "sleepy", NO_ARGS).await;
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(answer.call_tool_result()["isError"], true);
    assert_eq!(
        answer.text(),
        "The tool did not finish within 1 s; it may succeed if retried later."
    );
}

#[tokio::test]
async fn a_panicking_tool_is_an_internal_error_without_detail() {
    let app = misbehaving_app(Duration::from_secs(5));
    let answer = post(&app, "panicky", NO_ARGS).await;
    assert_eq!(answer.call_tool_result()["isError"], true);
    assert_eq!(
        answer.text(),
        "The tool failed with an internal error; retrying will not help."
    );
    // And the handler keeps serving.
    let answer = post(&app, "silent", NO_ARGS).await;
    assert_eq!(answer.call_tool_result()["isError"], false);
}

#[tokio::test]
async fn content_is_never_empty() {
    let answer = post(&misbehaving_app(Duration::from_secs(5)), "silent", NO_ARGS).await;
    assert_eq!(answer.text(), "(the tool returned no content)");
}

#[tokio::test]
async fn structured_content_travels_inside_the_call_tool_result() {
    let answer = post(&builtin_app(), "save_snippet", fixture("save_double")).await;
    let body = answer.json();
    let envelope: Value =
        serde_json::from_str(body["ReturnValue"].as_str().unwrap_or_default()).unwrap_or_default();
    // The host ignores an envelope-level structuredContent for call_tool_result.
    assert!(envelope.get("structuredContent").is_none());
    let result = answer.call_tool_result();
    assert_eq!(result["structuredContent"]["bytes"], 9);
    // Clients without structuredContent support read the same JSON as text.
    let text: Value = serde_json::from_str(&answer.text()).unwrap_or_default();
    assert_eq!(text, result["structuredContent"]);
}

#[tokio::test]
async fn errors_carry_no_outputs_and_successes_no_stray_keys() {
    let answer = post(&builtin_app(), "hello_mcp", fixture("hello_double")).await;
    let body = answer.json();
    let keys: Vec<&String> = body
        .as_object()
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    assert_eq!(keys, vec!["ReturnValue"]);
}
