//! A generated OpenAPI tool end to end: MCP client → host emulator → handler → a mock of the
//! internal API. The caller's `x-functions-key` and `Authorization` travel to the handler
//! inside every tool context; the internal API must see only the credential configured for
//! it.

mod common;

use common::mcp_cases::{self, CLIENT_BEARER, CLIENT_KEY};
use host_emulator::{EmulatorOptions, RunningEmulator};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const API_KEY: &str = "orders-api-key-5d1e";

#[tokio::test]
async fn only_the_configured_credential_reaches_the_internal_api() {
    let api = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/products/CHAIR-OAK-01/stock"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "sku": "CHAIR-OAK-01", "available": 3, "reserved": 1,
            "warehouses": [{"warehouseId": "WH-BER1", "available": 3}]
        })))
        .expect(1)
        .mount(&api)
        .await;

    let app = tempfile::tempdir().expect("tempdir");
    mcp_cases::lay_out_app(app.path());
    let mut opts = EmulatorOptions::new(app.path());
    opts.key = Some(CLIENT_KEY.to_owned());
    opts.extra_env = vec![
        ("DOWNSTREAM__ORDERS__BASE_URL".into(), api.uri()),
        ("DOWNSTREAM__ORDERS__AUTH".into(), "api_key".into()),
        ("DOWNSTREAM__ORDERS__API_KEY".into(), API_KEY.into()),
        (
            "DOWNSTREAM__ORDERS__API_KEY_HEADER".into(),
            "Ocp-Apim-Subscription-Key".into(),
        ),
        ("RUST_LOG".into(), "trace".into()),
    ];
    let emu = RunningEmulator::start(opts).await.expect("emulator");
    let client = mcp_cases::connect(&emu.mcp_url(), Some(CLIENT_KEY)).await;

    let result = mcp_cases::call(
        &client,
        "get_stock_level",
        Some(json!({"sku": "CHAIR-OAK-01"})),
    )
    .await;
    assert_eq!(result["isError"], false, "{result}");
    assert_eq!(result["structured"]["available"], 3, "{result}");

    let received = api.received_requests().await.expect("recorded");
    assert_eq!(received.len(), 1);
    let headers = &received[0].headers;
    assert_eq!(
        headers
            .get("ocp-apim-subscription-key")
            .and_then(|v| v.to_str().ok()),
        Some(API_KEY)
    );
    assert!(
        headers.get("x-functions-key").is_none(),
        "the caller's key was forwarded"
    );
    assert!(
        headers.get("authorization").is_none(),
        "the caller's Authorization was forwarded"
    );
    let all: String = headers
        .iter()
        .map(|(k, v)| format!("{k}: {}\n", v.to_str().unwrap_or_default()))
        .collect();
    for secret in [CLIENT_KEY, CLIENT_BEARER] {
        assert!(
            !all.contains(secret),
            "{secret} reached the internal API:\n{all}"
        );
    }
    // Neither the caller's secrets nor the API key appear in anything the handler wrote.
    let output = emu.handler_output();
    for secret in [CLIENT_KEY, CLIENT_BEARER, API_KEY] {
        assert!(
            !output.contains(secret),
            "{secret} leaked into the handler output"
        );
    }
    emu.shutdown().await;
}

#[tokio::test]
async fn an_unconfigured_api_is_a_readable_error_not_a_crash() {
    let app = tempfile::tempdir().expect("tempdir");
    mcp_cases::lay_out_app(app.path());
    let emu = RunningEmulator::start(EmulatorOptions::new(app.path()))
        .await
        .expect("emulator");
    let client = mcp_cases::connect(&emu.mcp_url(), None).await;
    let result = mcp_cases::call(
        &client,
        "get_stock_level",
        Some(json!({"sku": "CHAIR-OAK-01"})),
    )
    .await;
    assert_eq!(result["isError"], true);
    let text = result["text"][0].as_str().unwrap_or_default();
    assert!(text.contains("DOWNSTREAM__ORDERS__BASE_URL"), "{text}");
    emu.shutdown().await;
}
