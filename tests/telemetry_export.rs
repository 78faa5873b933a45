//! The telemetry export against a fake Application Insights ingestion endpoint (HTTPS with a
//! throwaway CA, as the exporter only speaks https), with Entra-authenticated ingestion
//! through a mock managed-identity endpoint and a mock downstream API.
//!
//! One tool call that succeeds and one that fails must arrive as requests of our own role,
//! each with the dependency it caused (same operation, parented to the request, named by
//! route template), plus metric envelopes; the bearer token and `/v2.1/track` are used; and
//! with every target at TRACE no seeded secret appears in any payload or log line.

mod common;

use std::convert::Infallible;
use std::io::Read as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use bytes::Bytes;
use common::captured::Captured;
use handler::serve_functions::{AppState, app};
use http_body_util::{BodyExt as _, Full};
use serde_json::{Value, json};
use tower::ServiceExt as _;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const IKEY: &str = "5eeded00-1111-2222-3333-444455556666";
const INGESTION_TOKEN: &str = "seeded-ingestion-token-7777";
const IDENTITY_HEADER: &str = "seeded-identity-header-6666";
const API_KEY: &str = "seeded-api-key-5555";
const FUNCTIONS_KEY: &str = "seeded-functions-key-4444";
const CALLER_TOKEN: &str = "seeded-caller-token-3333";
const COOKIE: &str = "seeded-cookie-2222";
const INVOCATION_ID: &str = "0f8fad5b-d9cb-469f-a165-70867728950e";
const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const HOST_SPAN_ID: &str = "00f067aa0ba902b7";
/// The trace a client of the self-hosted front door sends.
const CLIENT_TRACE_ID: &str = "0af7651916cd43dd8448eb211c80319c";

/// Every value that must never leave the process except where it belongs (the ikey in the
/// envelope's `iKey`, the token in the `Authorization` header).
const SECRETS: &[&str] = &[
    IKEY,
    INGESTION_TOKEN,
    IDENTITY_HEADER,
    API_KEY,
    FUNCTIONS_KEY,
    CALLER_TOKEN,
    COOKIE,
];

/// One POST the fake ingestion endpoint received.
#[derive(Debug, Clone)]
struct Upload {
    path: String,
    authorization: Option<String>,
    /// The gunzipped body: a JSON array of envelopes.
    body: String,
}

type Uploads = Arc<Mutex<Vec<Upload>>>;

/// A throwaway CA, and a certificate for 127.0.0.1 signed by it.
fn tls() -> (String, rustls::ServerConfig) {
    let ca_key = rcgen::KeyPair::generate().expect("ca key");
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("ca params");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "telemetry test CA");
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).expect("ca");
    let leaf_key = rcgen::KeyPair::generate().expect("leaf key");
    let leaf = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
        .expect("leaf params")
        .signed_by(&leaf_key, &ca)
        .expect("leaf");
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocols")
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            rustls::pki_types::PrivateKeyDer::try_from(leaf_key.serialize_der())
                .expect("leaf key der"),
        )
        .expect("server config");
    (ca.pem(), config)
}

/// The fake ingestion endpoint: records every upload and accepts every item.
async fn ingestion(config: rustls::ServerConfig, uploads: Uploads) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            let uploads = uploads.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(stream).await else {
                    return;
                };
                let service = hyper::service::service_fn(move |request| {
                    let uploads = uploads.clone();
                    async move { Ok::<_, Infallible>(record(request, &uploads).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    port
}

async fn record(
    request: hyper::Request<hyper::body::Incoming>,
    uploads: &Uploads,
) -> hyper::Response<Full<Bytes>> {
    let path = request.uri().path().to_owned();
    let authorization = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let gzip = request
        .headers()
        .get("content-encoding")
        .is_some_and(|v| v == "gzip");
    let raw = request
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let mut body = String::new();
    if gzip {
        let _ = flate2::read::GzDecoder::new(&raw[..]).read_to_string(&mut body);
    } else {
        body = String::from_utf8_lossy(&raw).into_owned();
    }
    let items = serde_json::from_str::<Vec<Value>>(&body).map_or(0, |v| v.len());
    if let Ok(mut uploads) = uploads.lock() {
        uploads.push(Upload {
            path,
            authorization,
            body,
        });
    }
    let answer = json!({"itemsReceived": items, "itemsAccepted": items, "errors": []});
    hyper::Response::new(Full::new(Bytes::from(answer.to_string())))
}

fn order(id: &str) -> Value {
    json!({
        "id": id, "status": "placed", "customerId": "C-1",
        "lines": [{"sku": "CHAIR-1", "quantity": 2}],
        "shippingAddress": {"name": "A", "line1": "B", "city": "C", "postalCode": "1", "country": "DE"},
        "createdAt": "2024-01-01T00:00:00Z"
    })
}

/// A host request for `get_order` carrying the caller's headers in the tool context, as the
/// host forwards them (contract §4).
fn invocation(order_id: &str) -> Request<Body> {
    let context = json!({
        "name": "get_order",
        "arguments": {"orderId": order_id},
        "transport": {"name": "http-streamable", "properties": {"headers": {
            "x-functions-key": FUNCTIONS_KEY,
            "Authorization": format!("Bearer {CALLER_TOKEN}"),
            "Cookie": format!("session={COOKIE}"),
            "User-Agent": "claude-code/1.2.3 (cli)",
        }}}
    });
    let double = Value::String(Value::String(context.to_string()).to_string());
    let body = json!({"Data": {"context": double}, "Metadata": {}});
    Request::post("/get_order")
        .header("content-type", "application/json")
        .header("x-azure-functions-invocationid", INVOCATION_ID)
        .header("traceparent", format!("00-{TRACE_ID}-{HOST_SPAN_ID}-01"))
        .body(Body::from(body.to_string()))
        .expect("request")
}

fn envelopes(uploads: &[Upload]) -> Vec<Value> {
    uploads
        .iter()
        .flat_map(|u| serde_json::from_str::<Vec<Value>>(&u.body).unwrap_or_default())
        .collect()
}

fn of_type<'a>(envelopes: &'a [Value], base_type: &str) -> Vec<&'a Value> {
    envelopes
        .iter()
        .filter(|e| e["data"]["baseType"] == base_type)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tool_calls_become_requests_with_dependencies_and_metrics_without_secrets() {
    let (ca_pem, server_config) = tls();
    let ca_file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(ca_file.path(), ca_pem).expect("write CA");
    let uploads = Uploads::default();
    let ingestion_port = ingestion(server_config, uploads.clone()).await;

    let identity = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/msi/token"))
        .and(query_param("resource", "https://monitor.azure.com/"))
        .and(query_param("client_id", "ai-client-id"))
        .and(header("X-IDENTITY-HEADER", IDENTITY_HEADER))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": INGESTION_TOKEN, "expires_in": 3600})),
        )
        .expect(1..)
        .mount(&identity)
        .await;

    let orders = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/orders/ORD-42"))
        .and(header("x-api-key", API_KEY))
        .respond_with(ResponseTemplate::new(200).set_body_json(order("ORD-42")))
        .mount(&orders)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/orders/ORD-404"))
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_json(json!({"title": "Not Found", "detail": "no such order"})),
        )
        .mount(&orders)
        .await;

    let orders_base = format!("{}/api", orders.uri());
    let vars: Vec<(&str, String)> = vec![
        (
            "APPLICATIONINSIGHTS_CONNECTION_STRING",
            // http:// on purpose: the exporter rewrites it to https://.
            format!(
                "InstrumentationKey={IKEY};IngestionEndpoint=http://127.0.0.1:{ingestion_port}/"
            ),
        ),
        (
            "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
            "Authorization=AAD;ClientId=ai-client-id".to_owned(),
        ),
        (
            "APPLICATIONINSIGHTS_EXTRA_CA_PEM",
            ca_file.path().display().to_string(),
        ),
        ("IDENTITY_ENDPOINT", format!("{}/msi/token", identity.uri())),
        ("IDENTITY_HEADER", IDENTITY_HEADER.to_owned()),
        ("WEBSITE_SITE_NAME", "func-telemetry-test".to_owned()),
        ("RUST_LOG", "trace".to_owned()),
        ("OTEL_FILTER", "trace".to_owned()),
        ("LOG_FORMAT", "json".to_owned()),
        ("TELEMETRY_RECORD_ARGUMENT_NAMES", "true".to_owned()),
        ("DOWNSTREAM__ORDERS__BASE_URL", orders_base.clone()),
        ("DOWNSTREAM__ORDERS__AUTH", "api_key".to_owned()),
        ("DOWNSTREAM__ORDERS__API_KEY", API_KEY.to_owned()),
    ];
    let env = |name: &str| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
    };
    let downstream = mcp_tools::downstream_config(env).expect("downstream settings");
    let registry = mcp_tools::build_registry(&downstream).expect("registry");
    let config = handler::config::telemetry(env).expect("telemetry settings");
    let console = Captured::default();
    let telemetry =
        handler::telemetry::init_with_writer(&config, &downstream.identity, console.clone())
            .expect("telemetry");
    assert!(telemetry.is_exporting());

    let registry = Arc::new(registry);
    let app = app(AppState {
        registry: registry.clone(),
        call_timeout: Duration::from_secs(10),
    });
    for order_id in ["ORD-42", "ORD-404"] {
        let answer = app
            .clone()
            .oneshot(invocation(order_id))
            .await
            .expect("answer");
        assert_eq!(answer.status(), 200);
    }
    // The same call through the self-hosted front door.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let snippets = tempfile::tempdir().expect("tempdir");
    let shutdown = tokio_util::sync::CancellationToken::new();
    let settings = handler::serve_mcp::ServeSettings {
        key: None,
        allowed_hosts: Vec::new(),
        call_timeout: Duration::from_secs(10),
        blobs: handler::local_blobs::LocalBlobs::new(snippets.path()),
    };
    tokio::spawn(handler::serve_mcp::run(
        listener,
        registry,
        settings,
        shutdown.clone(),
    ));
    let call = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": "get_order", "arguments": {"orderId": "ORD-42"}}});
    let answer = reqwest::Client::new()
        .post(format!("http://{addr}/mcp"))
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .header("mcp-protocol-version", "2025-06-18")
        .header("user-agent", "python-httpx/0.28.1")
        .header("authorization", format!("Bearer {CALLER_TOKEN}"))
        .header("cookie", format!("session={COOKIE}"))
        .header(
            "traceparent",
            format!("00-{CLIENT_TRACE_ID}-{HOST_SPAN_ID}-01"),
        )
        .body(call.to_string())
        .send()
        .await
        .expect("self-hosted call");
    assert_eq!(answer.status(), 200);
    let answer: Value = answer.json().await.expect("json-rpc answer");
    assert_eq!(answer["result"]["isError"], false, "{answer}");
    shutdown.cancel();

    // The downstream API continues our trace.
    let sent = orders.received_requests().await.unwrap_or_default();
    assert_eq!(sent.len(), 3);
    for request in &sent[..2] {
        let traceparent = request
            .headers
            .get("traceparent")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert!(
            traceparent.starts_with(&format!("00-{TRACE_ID}-")),
            "{traceparent}"
        );
        assert!(!traceparent.contains(HOST_SPAN_ID), "{traceparent}");
    }

    telemetry.shutdown(Duration::from_secs(10)).await;

    let uploads = uploads.lock().expect("uploads").clone();
    assert!(!uploads.is_empty(), "nothing was exported");
    for upload in &uploads {
        assert_eq!(upload.path, "/v2.1/track");
        assert_eq!(
            upload.authorization.as_deref(),
            Some(format!("Bearer {INGESTION_TOKEN}").as_str())
        );
    }
    let envelopes = envelopes(&uploads);
    let requests = of_type(&envelopes, "RequestData");
    // HTTP ones: at OTEL_FILTER=trace, rmcp's own spans arrive as in-process dependencies.
    let dependencies: Vec<&Value> = of_type(&envelopes, "RemoteDependencyData")
        .into_iter()
        .filter(|d| d["data"]["baseData"]["type"] == "HTTP")
        .collect();
    assert_eq!(requests.len(), 3, "{envelopes:#?}");
    assert_eq!(dependencies.len(), 3, "{envelopes:#?}");

    let self_hosted = requests
        .iter()
        .find(|r| r["data"]["baseData"]["properties"]["front"] == "self-hosted")
        .unwrap_or_else(|| panic!("no self-hosted request in {requests:#?}"));
    let data = &self_hosted["data"]["baseData"];
    assert_eq!(data["name"], "get_order");
    assert_eq!(data["success"], true);
    assert_eq!(data["properties"]["outcome"], "ok");
    assert_eq!(data["properties"]["client"], "python-httpx/0.28.1");
    assert_eq!(self_hosted["tags"]["ai.operation.id"], CLIENT_TRACE_ID);
    assert!(
        dependencies
            .iter()
            .any(|d| d["tags"]["ai.operation.parentId"] == data["id"]),
        "the self-hosted call's dependency: {dependencies:#?}"
    );

    for (order_id, outcome, success, status) in [
        ("ORD-42", "ok", true, "200"),
        ("ORD-404", "tool_error", false, "404"),
    ] {
        let request = requests
            .iter()
            .filter(|r| r["data"]["baseData"]["properties"]["front"] == "functions")
            .find(|r| r["data"]["baseData"]["properties"]["outcome"] == outcome)
            .unwrap_or_else(|| panic!("no {outcome} request in {requests:#?}"));
        let data = &request["data"]["baseData"];
        let tags = &request["tags"];
        assert_eq!(data["name"], "get_order");
        assert_eq!(data["responseCode"], "200");
        assert_eq!(data["success"], success, "{order_id}");
        assert_eq!(data["properties"]["tool"], "get_order");
        assert_eq!(data["properties"]["function"], "get_order");
        assert_eq!(data["properties"]["InvocationId"], INVOCATION_ID);
        assert_eq!(data["properties"]["client"], "claude-code/1.2.3");
        assert_eq!(data["properties"]["argument_names"], "orderId");
        assert_eq!(tags["ai.cloud.role"], "func-telemetry-test-handler");
        assert_eq!(tags["ai.operation.id"], TRACE_ID);
        assert_eq!(tags["ai.operation.parentId"], HOST_SPAN_ID);

        let dependency = dependencies
            .iter()
            .find(|d| d["tags"]["ai.operation.parentId"] == data["id"])
            .unwrap_or_else(|| panic!("no dependency under {data}: {dependencies:#?}"));
        let dep = &dependency["data"]["baseData"];
        assert_eq!(dependency["tags"]["ai.operation.id"], TRACE_ID);
        assert_eq!(
            dependency["tags"]["ai.cloud.role"],
            "func-telemetry-test-handler"
        );
        assert_eq!(dep["name"], "GET /orders/{orderId}");
        assert_eq!(dep["data"], format!("{orders_base}/orders/{{orderId}}"));
        assert_eq!(dep["type"], "HTTP");
        assert_eq!(dep["resultCode"], status);
        assert_eq!(dep["success"], success);
        assert_eq!(dep["properties"]["attempts"], "1");
        assert!(!dependency.to_string().contains(order_id), "{dependency}");
    }

    // Log events inside a call are traces of its operation.
    assert!(
        of_type(&envelopes, "MessageData")
            .iter()
            .any(|m| m["tags"]["ai.operation.id"] == TRACE_ID),
        "no log event correlated with the call"
    );

    let metrics: Vec<String> = of_type(&envelopes, "MetricData")
        .iter()
        .flat_map(|m| {
            m["data"]["baseData"]["metrics"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|m| m["name"].as_str().map(str::to_owned))
        .collect();
    for name in ["mcp.tool.calls", "mcp.tool.duration", "downstream.duration"] {
        assert!(
            metrics.iter().any(|m| m == name),
            "{name} not in {metrics:?}"
        );
    }

    // No secret in any payload: the ikey belongs only in the envelope's `iKey`.
    for envelope in &envelopes {
        let mut stripped = envelope.clone();
        if let Some(obj) = stripped.as_object_mut() {
            obj.remove("iKey");
        }
        let text = stripped.to_string();
        for secret in SECRETS {
            assert!(!text.contains(secret), "{secret} leaked into {text}");
        }
    }
    let log = console.text();
    assert!(
        log.contains("tool call"),
        "the console must see the calls:\n{log}"
    );
    for secret in SECRETS {
        assert!(
            !log.contains(secret),
            "{secret} leaked into the log:\n{log}"
        );
    }
}
