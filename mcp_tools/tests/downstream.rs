//! The downstream layer against mock APIs: every failure mode answers a useful `isError`
//! within its deadline; credentials are the API's own, cached, and never the caller's.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mcp_tools::catalog::build_with;
use mcp_tools::downstream::{Downstream, DownstreamConfig};
use mcp_tools::{CallOutcome, Registry, ToolContext};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wiremock::matchers::{bearer_token, body_string_contains, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

struct Setup {
    registry: Registry,
    downstream: Downstream,
}

fn setup(vars: &[(&str, String)]) -> Setup {
    setup_with(vars, |_| {})
}

fn setup_with(vars: &[(&str, String)], adjust: impl FnOnce(&mut DownstreamConfig)) -> Setup {
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    let mut config = DownstreamConfig::from_env(["ORDERS"], |name| {
        vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    })
    .expect("valid settings");
    adjust(&mut config);
    let downstream = Downstream::new(&config).expect("clients");
    let registry = build_with(&downstream).expect("registry");
    Setup {
        registry,
        downstream,
    }
}

fn api(base: &str, auth: &str) -> Vec<(&'static str, String)> {
    vec![
        ("DOWNSTREAM__ORDERS__BASE_URL", base.to_owned()),
        ("DOWNSTREAM__ORDERS__AUTH", auth.to_owned()),
    ]
}

impl Setup {
    async fn call(&self, tool: &str, args: Value) -> CallOutcome {
        self.call_within(tool, args, Duration::from_secs(10)).await
    }

    async fn call_within(&self, tool: &str, args: Value, timeout: Duration) -> CallOutcome {
        let tool = self.registry.get(tool).expect("tool");
        let ctx = ToolContext::new(timeout).with_traceparent(TRACEPARENT);
        self.registry.call(tool, Some(args), ctx).await
    }
}

fn text(outcome: &CallOutcome) -> String {
    let v = serde_json::to_value(&outcome.result).expect("json");
    v["content"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn is_error(outcome: &CallOutcome) -> bool {
    outcome.result.is_error == Some(true)
}

fn order(id: &str) -> Value {
    json!({
        "id": id, "status": "placed", "customerId": "C-1",
        "lines": [{"sku": "CHAIR-1", "quantity": 2, "unitPrice": {"amount": 10.0, "currency": "EUR"}},
                  {"sku": "TABLE-1", "quantity": 1}],
        "shippingAddress": {"name": "A", "line1": "B", "city": "C", "postalCode": "1", "country": "DE"},
        "createdAt": "2024-01-01T00:00:00Z"
    })
}

#[tokio::test]
async fn success_returns_structured_content_and_sends_only_our_headers() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/orders/ORD-1"))
        .and(header("traceparent", TRACEPARENT))
        .respond_with(ResponseTemplate::new(200).set_body_json(order("ORD-1")))
        .expect(1)
        .mount(&server)
        .await;
    let s = setup(&api(&format!("{}/api/", server.uri()), "none"));
    let out = s.call("get_order", json!({"orderId": "ORD-1"})).await;
    assert!(!is_error(&out), "{}", text(&out));
    assert_eq!(
        out.result
            .structured_content
            .as_ref()
            .map(|v| v["id"].clone()),
        Some(json!("ORD-1"))
    );

    for request in server.received_requests().await.unwrap_or_default() {
        for forbidden in ["x-functions-key", "authorization", "cookie"] {
            assert!(
                request.headers.get(forbidden).is_none(),
                "{forbidden} was sent"
            );
        }
    }
}

#[tokio::test]
async fn query_arrays_headers_and_body_are_sent_as_declared() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/orders"))
        .and(query_param("status", "placed"))
        .and(query_param("pageSize", "5"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"items": [], "nextPageToken": null})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/products/CHAIR-1/stock"))
        .and(header(
            "X-Request-Id",
            "6f1c1f0e-1d2b-4c1a-9f00-000000000001",
        ))
        .and(body_string_contains("\"available\":7"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"sku": "CHAIR-1", "available": 7, "reserved": 0, "warehouses": []}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let s = setup(&api(&server.uri(), "none"));
    let out = s
        .call("list_orders", json!({"status": "placed", "pageSize": 5}))
        .await;
    assert!(!is_error(&out), "{}", text(&out));
    let out = s
        .call(
            "set_stock_level",
            json!({"sku": "CHAIR-1", "X-Request-Id": "6f1c1f0e-1d2b-4c1a-9f00-000000000001",
                   "body": {"warehouseId": "WH-BER1", "available": 7}}),
        )
        .await;
    assert!(!is_error(&out), "{}", text(&out));
}

#[tokio::test]
async fn unconfigured_api_names_the_setting() {
    let s = setup(&[]);
    let out = s.call("get_order", json!({"orderId": "ORD-1"})).await;
    assert!(is_error(&out));
    assert_eq!(
        text(&out),
        "API orders is not configured: set DOWNSTREAM__ORDERS__BASE_URL. Retrying will not help."
    );
    let out = s
        .call("get_order_with_stock", json!({"orderId": "ORD-1"}))
        .await;
    assert!(text(&out).starts_with("API orders is not configured"));
}

#[tokio::test]
async fn client_errors_say_what_happened_without_secrets() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/orders/ORD-404"))
        .and(header("x-api-key", "key-0123456789-secret"))
        .respond_with(ResponseTemplate::new(404).set_body_raw(
            r#"{"title":"Not Found","detail":"No order ORD-404","debug":{"access_token":"tok-ABCDEF","echo":"key-0123456789-secret"}}"#,
            "application/problem+json",
        ))
        .expect(1)
        .mount(&server)
        .await;
    let mut vars = api(&server.uri(), "api_key");
    vars.push((
        "DOWNSTREAM__ORDERS__API_KEY",
        "key-0123456789-secret".into(),
    ));
    let s = setup(&vars);
    let out = s.call("get_order", json!({"orderId": "ORD-404"})).await;
    let t = text(&out);
    assert!(is_error(&out));
    assert!(t.contains("HTTP 404 Not Found"), "{t}");
    assert!(t.contains("No order ORD-404"), "{t}");
    assert!(t.ends_with("Retrying will not help."), "{t}");
    assert!(
        !t.contains("tok-ABCDEF") && !t.contains("key-0123456789-secret"),
        "{t}"
    );
}

#[tokio::test]
async fn api_key_can_go_in_the_query() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/warehouses"))
        .and(query_param("code", "qk-1"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!([{"id": "WH-A1", "name": "A", "country": "DE"}])),
        )
        .expect(1)
        .mount(&server)
        .await;
    let mut vars = api(&server.uri(), "api_key");
    vars.push(("DOWNSTREAM__ORDERS__API_KEY", "qk-1".into()));
    vars.push(("DOWNSTREAM__ORDERS__API_KEY_QUERY", "code".into()));
    let s = setup(&vars);
    let out = s.call("list_warehouses", json!({})).await;
    assert!(!is_error(&out), "{}", text(&out));
    assert_eq!(
        out.result
            .structured_content
            .as_ref()
            .map(|v| v["result"][0]["id"].clone()),
        Some(json!("WH-A1"))
    );
}

#[tokio::test]
async fn server_errors_are_retried_for_idempotent_methods_only() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(502))
        .expect(3)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .expect(1)
        .mount(&server)
        .await;
    let s = setup(&api(&server.uri(), "none"));
    let out = s.call("get_order", json!({"orderId": "ORD-1"})).await;
    assert!(is_error(&out));
    assert!(
        text(&out).contains("HTTP 502") && text(&out).ends_with("Retrying may help."),
        "{}",
        text(&out)
    );
    let out = s
        .call(
            "cancel_order",
            json!({"orderId": "ORD-1", "body": {"reason": "other"}}),
        )
        .await;
    assert!(text(&out).contains("HTTP 503"), "{}", text(&out));
}

#[tokio::test]
async fn rate_limits_are_retried_after_the_requested_wait_for_any_method() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(order("ORD-1")))
        .expect(1)
        .mount(&server)
        .await;
    let s = setup(&api(&server.uri(), "none"));
    let started = Instant::now();
    let out = s
        .call(
            "cancel_order",
            json!({"orderId": "ORD-1", "body": {"reason": "other"}}),
        )
        .await;
    assert!(!is_error(&out), "{}", text(&out));
    assert!(started.elapsed() >= Duration::from_millis(950));
}

#[tokio::test]
async fn a_wait_longer_than_the_deadline_is_not_slept() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "120"))
        .expect(1)
        .mount(&server)
        .await;
    let s = setup(&api(&server.uri(), "none"));
    let started = Instant::now();
    let out = s.call("get_order", json!({"orderId": "ORD-1"})).await;
    assert!(started.elapsed() < Duration::from_secs(2));
    let t = text(&out);
    assert!(
        t.contains("rate-limiting")
            && t.contains("retry after 120 s")
            && t.ends_with("Retrying may help."),
        "{t}"
    );
}

#[tokio::test]
async fn slow_answers_time_out_within_the_api_timeout_and_the_call_deadline() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(order("ORD-1"))
                .set_delay(Duration::from_secs(5)),
        )
        .mount(&server)
        .await;
    let mut vars = api(&server.uri(), "none");
    vars.push(("DOWNSTREAM__ORDERS__TIMEOUT_MS", "300".into()));
    let s = setup(&vars);
    let started = Instant::now();
    let out = s.call("get_order", json!({"orderId": "ORD-1"})).await;
    assert!(started.elapsed() < Duration::from_millis(1500));
    assert_eq!(
        text(&out),
        "API orders did not answer within 0.3 s. Retrying may help."
    );

    // The call's own deadline bounds the API's 30 s default too.
    let s = setup(&api(&server.uri(), "none"));
    let started = Instant::now();
    let out = s
        .call_within(
            "get_order",
            json!({"orderId": "ORD-1"}),
            Duration::from_millis(500),
        )
        .await;
    assert!(is_error(&out));
    assert!(started.elapsed() < Duration::from_millis(1500));
    assert!(
        text(&out).contains("did not answer within"),
        "{}",
        text(&out)
    );
}

/// A port that refuses connections.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

#[tokio::test]
async fn refused_connections_are_retried_then_reported() {
    let s = setup(&api(&format!("http://127.0.0.1:{}", closed_port()), "none"));
    let started = Instant::now();
    let out = s.call("get_order", json!({"orderId": "ORD-1"})).await;
    assert!(started.elapsed() < Duration::from_secs(3));
    let t = text(&out);
    assert!(
        t.starts_with("Could not reach API orders: the connection failed"),
        "{t}"
    );
    assert!(t.ends_with("Retrying may help."), "{t}");
}

/// A raw server that answers every connection with `reply` (then closes), after `delay`.
async fn raw_server(reply: &'static [u8], trickle: bool) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = socket.read(&mut buf).await;
                if trickle {
                    for byte in reply {
                        if socket.write_all(&[*byte]).await.is_err() {
                            return;
                        }
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                } else {
                    let _ = socket.write_all(reply).await;
                }
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn reset_connections_and_broken_bodies_are_reported() {
    let reset = raw_server(b"", false).await;
    let s = setup(&api(&reset, "none"));
    let out = s.call("get_order", json!({"orderId": "ORD-1"})).await;
    let t = text(&out);
    assert!(t.starts_with("Could not reach API orders"), "{t}");

    let cut = raw_server(
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n{\"id\":",
        false,
    )
    .await;
    let s = setup(&api(&cut, "none"));
    let out = s.call("get_order", json!({"orderId": "ORD-1"})).await;
    assert!(
        text(&out).contains("the answer broke off"),
        "{}",
        text(&out)
    );
}

#[tokio::test]
async fn a_trickling_body_times_out() {
    let slow = raw_server(
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 60\r\n\r\n{\"id\":\"ORD-1\",\"customerId\":\"C\",\"lines\":[],\"shippingAdd\":1}",
        true,
    )
    .await;
    let mut vars = api(&slow, "none");
    vars.push(("DOWNSTREAM__ORDERS__TIMEOUT_MS", "1000".into()));
    let s = setup(&vars);
    let started = Instant::now();
    let out = s.call("get_order", json!({"orderId": "ORD-1"})).await;
    assert!(started.elapsed() < Duration::from_millis(2000));
    assert_eq!(
        text(&out),
        "API orders did not answer within 1.0 s. Retrying may help."
    );
}

#[tokio::test]
async fn oversized_invalid_and_non_json_answers() {
    let server = MockServer::start().await;
    let big_page = json!({"items": (0..200).map(|i| json!({"id": format!("ORD-{i}"), "status": "placed", "customerId": "C", "createdAt": "2024-01-01T00:00:00Z"})).collect::<Vec<_>>()});
    Mock::given(method("GET"))
        .and(path("/orders"))
        .respond_with(ResponseTemplate::new(200).set_body_json(big_page))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/orders/BAD/label"))
        .respond_with(ResponseTemplate::new(200).set_body_raw("line\n".repeat(1000), "text/plain"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/orders/PNG/label"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(b"\x89PNG\r\n\x1a\n".to_vec(), "image/png"),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/orders/PDF/label"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(vec![0u8; 1536], "application/pdf"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/orders/JUNK"))
        .respond_with(ResponseTemplate::new(200).set_body_raw("{\"id\": ", "application/json"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/orders/HTML"))
        .respond_with(ResponseTemplate::new(200).set_body_raw("<html>login</html>", "text/html"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/orders/OFFSCHEMA"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 5})))
        .mount(&server)
        .await;
    let mut vars = api(&server.uri(), "none");
    vars.push(("DOWNSTREAM__ORDERS__MAX_RESPONSE_BYTES", "2048".into()));
    let s = setup(&vars);

    let t = text(&s.call("list_orders", json!({})).await);
    assert_eq!(
        t,
        "The answer of API orders is too large (over 2.0 KiB); use `pageSize` to ask for less. Retrying will not help."
    );

    let out = s
        .call("get_shipping_label", json!({"orderId": "BAD"}))
        .await;
    let t = text(&out);
    assert!(!is_error(&out));
    assert!(t.starts_with("line\nline\n"), "{t}");
    assert!(t.ends_with("line\n\n[truncated: the answer is larger than 2048 bytes; ask for less, e.g. a narrower filter or a smaller page]"), "{t}");

    let out = s
        .call("get_shipping_label", json!({"orderId": "PNG"}))
        .await;
    let v = serde_json::to_value(&out.result).expect("json");
    assert_eq!(v["content"][0]["type"], "image");
    assert_eq!(v["content"][0]["mimeType"], "image/png");

    let t = text(
        &s.call("get_shipping_label", json!({"orderId": "PDF"}))
            .await,
    );
    assert_eq!(
        t,
        "API orders answered with 1.5 KiB of application/pdf, which cannot be shown as text."
    );

    let t = text(&s.call("get_order", json!({"orderId": "JUNK"})).await);
    assert!(
        t.starts_with("API orders answered with invalid JSON"),
        "{t}"
    );
    let t = text(&s.call("get_order", json!({"orderId": "HTML"})).await);
    assert!(
        t.starts_with("API orders answered with text/html where JSON was documented"),
        "{t}"
    );
    let t = text(&s.call("get_order", json!({"orderId": "OFFSCHEMA"})).await);
    assert!(t.contains("does not match its documented schema"), "{t}");
}

#[tokio::test]
async fn redirects_off_the_origin_are_not_followed() {
    let elsewhere = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(order("ORD-1")))
        .expect(0)
        .mount(&elsewhere)
        .await;
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/orders/ORD-1"))
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("Location", format!("{}/steal", elsewhere.uri())),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/orders/ORD-2"))
        .respond_with(ResponseTemplate::new(307).insert_header("Location", "/orders/ORD-2b"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/orders/ORD-2b"))
        .respond_with(ResponseTemplate::new(200).set_body_json(order("ORD-2")))
        .mount(&server)
        .await;
    let s = setup(&api(&server.uri(), "none"));
    let t = text(&s.call("get_order", json!({"orderId": "ORD-1"})).await);
    assert!(
        t.contains("redirected the request elsewhere") && t.contains("HTTP 302"),
        "{t}"
    );
    let out = s.call("get_order", json!({"orderId": "ORD-2"})).await;
    assert!(
        !is_error(&out),
        "same-origin redirects are fine: {}",
        text(&out)
    );
}

#[tokio::test]
async fn concurrency_cap_makes_extra_calls_wait_then_fail_readably() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(order("ORD-1"))
                .set_delay(Duration::from_millis(800)),
        )
        .mount(&server)
        .await;
    let mut vars = api(&server.uri(), "none");
    vars.push(("DOWNSTREAM__ORDERS__MAX_CONCURRENCY", "1".into()));
    let s = Arc::new(setup(&vars));
    let first = {
        let s = s.clone();
        tokio::spawn(async move { s.call("get_order", json!({"orderId": "ORD-1"})).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    let second = s
        .call_within(
            "get_order",
            json!({"orderId": "ORD-1"}),
            Duration::from_millis(300),
        )
        .await;
    assert!(started.elapsed() < Duration::from_millis(600));
    let t = text(&second);
    assert!(
        t.starts_with("API orders already has 1 calls in progress"),
        "{t}"
    );
    assert!(t.ends_with("Retrying may help."));
    let first = first.await.expect("join");
    assert!(!is_error(&first), "{}", text(&first));
}

async fn identity_endpoint(expires_in: u64, delay: Duration) -> MockServer {
    let identity = MockServer::start().await;
    let counter = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    Mock::given(method("GET"))
        .and(path("/msi/token"))
        .and(header("X-IDENTITY-HEADER", "identity-header-secret"))
        .and(query_param("resource", "api://orders"))
        .and(query_param("api-version", "2019-08-01"))
        .and(query_param("client_id", "uami-client-id"))
        .respond_with(move |_: &wiremock::Request| {
            let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
            ResponseTemplate::new(200)
                .set_body_json(json!({
                    "access_token": format!("mi-token-{n}"),
                    "expires_in": expires_in.to_string(),
                    "token_type": "Bearer",
                    "resource": "api://orders"
                }))
                .set_delay(delay)
        })
        .mount(&identity)
        .await;
    identity
}

fn managed_identity(api_base: &str, identity: &MockServer) -> Vec<(&'static str, String)> {
    let mut vars = api(api_base, "managed_identity");
    vars.push(("DOWNSTREAM__ORDERS__AUDIENCE", "api://orders".into()));
    vars.push(("IDENTITY_ENDPOINT", format!("{}/msi/token", identity.uri())));
    vars.push(("IDENTITY_HEADER", "identity-header-secret".into()));
    vars.push(("AZURE_CLIENT_ID", "uami-client-id".into()));
    vars
}

#[tokio::test]
async fn managed_identity_tokens_are_cached_and_fetched_once_under_concurrency() {
    let identity = identity_endpoint(3600, Duration::from_millis(200)).await;
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(bearer_token("mi-token-1"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                json!({"sku": "A", "available": 1, "reserved": 0, "warehouses": []}),
            ),
        )
        .expect(25)
        .mount(&server)
        .await;
    let s = Arc::new(setup(&managed_identity(&server.uri(), &identity)));
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let s = s.clone();
        calls.spawn(async move { s.call("get_stock_level", json!({"sku": "A"})).await });
    }
    while let Some(out) = calls.join_next().await {
        let out = out.expect("join");
        assert!(!is_error(&out), "{}", text(&out));
    }
    for _ in 0..5 {
        assert!(!is_error(
            &s.call("get_stock_level", json!({"sku": "A"})).await
        ));
    }
    assert_eq!(s.downstream.token_fetches("ORDERS"), 1);
    assert_eq!(identity.received_requests().await.map(|r| r.len()), Some(1));
}

#[tokio::test]
async fn tokens_are_refetched_before_expiry() {
    let identity = identity_endpoint(1, Duration::ZERO).await;
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                json!({"sku": "A", "available": 1, "reserved": 0, "warehouses": []}),
            ),
        )
        .mount(&server)
        .await;
    let s = setup(&managed_identity(&server.uri(), &identity));
    assert!(!is_error(
        &s.call("get_stock_level", json!({"sku": "A"})).await
    ));
    assert!(!is_error(
        &s.call("get_stock_level", json!({"sku": "A"})).await
    ));
    assert_eq!(s.downstream.token_fetches("ORDERS"), 1);
    // A 1 s token is refreshed after half its life.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(!is_error(
        &s.call("get_stock_level", json!({"sku": "A"})).await
    ));
    assert_eq!(s.downstream.token_fetches("ORDERS"), 2);
    let sent: Vec<String> = server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter_map(|r| {
            r.headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(
        sent,
        [
            "Bearer mi-token-1",
            "Bearer mi-token-1",
            "Bearer mi-token-2"
        ]
    );
}

#[tokio::test]
async fn a_rejected_token_is_replaced_once() {
    let identity = identity_endpoint(3600, Duration::ZERO).await;
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(bearer_token("mi-token-1"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(bearer_token("mi-token-2"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                json!({"sku": "A", "available": 1, "reserved": 0, "warehouses": []}),
            ),
        )
        .mount(&server)
        .await;
    let s = setup(&managed_identity(&server.uri(), &identity));
    let out = s.call("get_stock_level", json!({"sku": "A"})).await;
    assert!(!is_error(&out), "{}", text(&out));
    assert_eq!(s.downstream.token_fetches("ORDERS"), 2);
}

#[tokio::test]
async fn identity_endpoint_failures_are_reported() {
    let identity = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(400).set_body_string(
            r#"{"error":"invalid_request","error_description":"Identity not found","echo":"identity-header-secret"}"#,
        ))
        .mount(&identity)
        .await;
    let server = MockServer::start().await;
    let s = setup(&managed_identity(&server.uri(), &identity));
    let t = text(&s.call("get_stock_level", json!({"sku": "A"})).await);
    assert!(
        t.starts_with(
            "Could not get a token for API orders from the managed identity endpoint: HTTP 400"
        ),
        "{t}"
    );
    assert!(
        t.contains("Identity not found") && !t.contains("identity-header-secret"),
        "{t}"
    );
    assert_eq!(server.received_requests().await.map(|r| r.len()), Some(0));
}

#[tokio::test]
async fn client_credentials_tokens_are_cached() {
    let idp = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth2/v2.0/token"))
        .and(body_string_contains("grant_type=client_credentials"))
        .and(body_string_contains("client_id=orders-agent"))
        .and(body_string_contains("client_secret=cc-secret-value"))
        .and(body_string_contains("scope=api%3A%2F%2Forders%2F.default"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"access_token": "cc-token", "expires_in": 3599, "token_type": "Bearer"}),
        ))
        .expect(1)
        .mount(&idp)
        .await;
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(bearer_token("cc-token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .expect(3)
        .mount(&server)
        .await;
    let mut vars = api(&server.uri(), "client_credentials");
    vars.push((
        "DOWNSTREAM__ORDERS__TOKEN_URL",
        format!("{}/oauth2/v2.0/token", idp.uri()),
    ));
    vars.push(("DOWNSTREAM__ORDERS__CLIENT_ID", "orders-agent".into()));
    vars.push((
        "DOWNSTREAM__ORDERS__CLIENT_SECRET",
        "cc-secret-value".into(),
    ));
    vars.push(("DOWNSTREAM__ORDERS__AUDIENCE", "api://orders".into()));
    let s = setup(&vars);
    for _ in 0..3 {
        let out = s.call("list_warehouses", json!({})).await;
        assert!(!is_error(&out), "{}", text(&out));
    }
}

#[cfg(unix)]
#[tokio::test]
async fn without_an_identity_endpoint_tokens_come_from_the_azure_cli() {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("fake-az-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let az = dir.join("az");
    std::fs::write(
        &az,
        "#!/bin/sh\n[ \"$4\" = \"api://orders\" ] || exit 3\necho '{\"accessToken\": \"cli-token\", \"expires_on\": 4102444800, \"tokenType\": \"Bearer\"}'\n",
    )
    .expect("script");
    std::fs::set_permissions(&az, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(bearer_token("cli-token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .expect(2)
        .mount(&server)
        .await;
    let mut vars = api(&server.uri(), "managed_identity");
    vars.push(("DOWNSTREAM__ORDERS__AUDIENCE", "api://orders".into()));
    let s = setup_with(&vars, |c| c.identity.azure_cli = az.clone());
    for _ in 0..2 {
        let out = s.call("list_warehouses", json!({})).await;
        assert!(!is_error(&out), "{}", text(&out));
    }
    assert_eq!(s.downstream.token_fetches("ORDERS"), 1);

    let missing = setup_with(&vars, |c| {
        c.identity.azure_cli = PathBuf::from("/nonexistent/az")
    });
    let t = text(&missing.call("list_warehouses", json!({})).await);
    assert!(t.contains("there is no IDENTITY_ENDPOINT here"), "{t}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn the_hand_written_tool_combines_two_calls() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/orders/ORD-7"))
        .respond_with(ResponseTemplate::new(200).set_body_json(order("ORD-7")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/products/CHAIR-1/stock"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"sku": "CHAIR-1", "available": 5, "reserved": 1, "warehouses": []}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/products/TABLE-1/stock"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"sku": "TABLE-1", "available": 0, "reserved": 0, "warehouses": []}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let s = setup(&api(&server.uri(), "none"));
    let out = s
        .call("get_order_with_stock", json!({"orderId": "ORD-7"}))
        .await;
    assert!(!is_error(&out), "{}", text(&out));
    assert_eq!(
        out.result.structured_content,
        Some(json!({
            "orderId": "ORD-7", "status": "placed", "canShip": false,
            "lines": [
                {"sku": "CHAIR-1", "quantity": 2, "available": 5, "enough": true},
                {"sku": "TABLE-1", "quantity": 1, "available": 0, "enough": false}
            ]
        }))
    );
}
