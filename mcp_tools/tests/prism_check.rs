//! A by-hand check of every orders tool against Prism in validation mode (`--errors`: a
//! request that breaks the spec is answered 422, an answer that breaks it fails the tool's
//! output-schema check). Not part of `cargo test`: it needs Prism running.
//!
//! ```sh
//! npx -y @stoplight/prism-cli@5 mock --errors -p 4010 mcp_tools/apis/orders/openapi.yaml &
//! PRISM_URL=http://127.0.0.1:4010 cargo test -p mcp_tools --test prism_check -- --ignored --nocapture
//! ```

use std::time::Duration;

use mcp_tools::ToolContext;
use mcp_tools::downstream::DownstreamConfig;
use serde_json::{Value, json};

#[tokio::test]
#[ignore = "needs Prism on PRISM_URL"]
async fn every_orders_tool_against_prism() {
    let base = std::env::var("PRISM_URL").unwrap_or_else(|_| "http://127.0.0.1:4010".into());
    let config = DownstreamConfig::from_env(["ORDERS"], |name| match name {
        "DOWNSTREAM__ORDERS__BASE_URL" => Some(base.clone()),
        "DOWNSTREAM__ORDERS__AUTH" => Some("api_key".into()),
        "DOWNSTREAM__ORDERS__API_KEY" => Some("local-dev-key".into()),
        "DOWNSTREAM__ORDERS__API_KEY_HEADER" => Some("Ocp-Apim-Subscription-Key".into()),
        _ => None,
    })
    .expect("settings");
    let registry = mcp_tools::build_registry(&config).expect("registry");
    let address = json!({"name": "Ada", "line1": "Main St 1", "city": "Berlin", "postalCode": "10115", "country": "DE"});
    let calls: Vec<(&str, Value)> = vec![
        ("list_orders", json!({"status": "placed", "pageSize": 5})),
        ("get_order", json!({"orderId": "ORD-2024-000123"})),
        (
            "create_order",
            json!({"Idempotency-Key": "k-1", "body": {"customerId": "C-1", "lines": [{"sku": "CHAIR-OAK-01", "quantity": 2}], "shippingAddress": address, "paymentToken": "tok"}}),
        ),
        (
            "cancel_order",
            json!({"orderId": "ORD-2024-000123", "body": {"reason": "other", "comment": null}}),
        ),
        ("delete_draft_order", json!({"orderId": "ORD-2024-000123"})),
        ("get_shipping_label", json!({"orderId": "ORD-2024-000123"})),
        ("get_stock_level", json!({"sku": "CHAIR-OAK-01"})),
        (
            "set_stock_level",
            json!({"sku": "CHAIR-OAK-01", "X-Request-Id": "6f1c1f0e-1d2b-4c1a-9f00-000000000001", "body": {"warehouseId": "WH-BER1", "available": 3}}),
        ),
        ("list_warehouses", json!({})),
        ("get_category", json!({"categoryId": "chairs", "depth": 2})),
        (
            "get_order_with_stock",
            json!({"orderId": "ORD-2024-000123"}),
        ),
    ];
    let mut failures = 0;
    for (name, args) in calls {
        let tool = registry.get(name).expect("tool");
        let out = registry
            .call(tool, Some(args), ToolContext::new(Duration::from_secs(10)))
            .await;
        let v = serde_json::to_value(&out.result).expect("json");
        let is_error = out.result.is_error == Some(true);
        failures += usize::from(is_error);
        let shown = v["content"][0]["text"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| v["content"][0]["type"].to_string());
        let shown: String = shown.chars().take(160).collect();
        println!(
            "{name:22} {} structured={} {shown}",
            if is_error { "ERROR" } else { "ok   " },
            out.result.structured_content.is_some()
        );
    }
    assert_eq!(failures, 0, "some tools failed against Prism");
}
