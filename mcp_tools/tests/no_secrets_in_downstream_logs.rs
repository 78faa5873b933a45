//! With every target at TRACE (and the `log` records of the HTTP stack bridged in), no API
//! key, identity header, token or client secret appears in what is logged, whatever happens.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcp_tools::ToolContext;
use mcp_tools::catalog::build_with;
use mcp_tools::downstream::{Downstream, DownstreamConfig};
use serde_json::json;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::util::SubscriberInitExt;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("poisoned"))?
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

const SECRETS: &[&str] = &[
    "apikey-in-header-0001",
    "apikey-in-query-0002",
    "identity-header-0003",
    "mi-token-0004",
    "client-secret-0005",
    "cc-token-0006",
];

async fn call_all(registry: &mcp_tools::Registry) {
    for (tool, args) in [
        ("get_order", json!({"orderId": "ORD-1"})),
        ("get_order", json!({"orderId": "ORD-401"})),
        ("list_warehouses", json!({})),
        ("get_shipping_label", json!({"orderId": "ORD-1"})),
    ] {
        let tool = registry.get(tool).expect("tool");
        let ctx = ToolContext::new(Duration::from_secs(5));
        registry.call(tool, Some(args), ctx).await;
    }
}

fn config(vars: Vec<(String, String)>) -> DownstreamConfig {
    DownstreamConfig::from_env(["ORDERS"], move |name| {
        vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    })
    .expect("settings")
}

#[tokio::test]
async fn secrets_never_reach_the_log() {
    let captured = Captured::default();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(captured.clone())
        .with_ansi(false)
        .finish()
        .try_init()
        .expect("global subscriber with the log bridge");

    let server = MockServer::start().await;
    // Error bodies that echo what they were sent, as careless APIs do.
    let echo = |status: u16| {
        move |request: &wiremock::Request| {
            let header = |name: &str| {
                request
                    .headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned()
            };
            ResponseTemplate::new(status).set_body_string(format!(
                "denied: url {} key {} auth {} / {{\"apiKey\": \"{}\"}}",
                request.url,
                header("x-api-key"),
                header("authorization"),
                header("x-api-key"),
            ))
        }
    };
    Mock::given(method("GET"))
        .and(path("/orders/ORD-401"))
        .respond_with(echo(401))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(echo(500))
        .mount(&server)
        .await;
    let identity = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": SECRETS[3], "expires_in": "3600"})),
        )
        .mount(&identity)
        .await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": SECRETS[5], "expires_in": 3600})),
        )
        .mount(&identity)
        .await;

    let base = |auth: &str| {
        vec![
            ("DOWNSTREAM__ORDERS__BASE_URL".to_owned(), server.uri()),
            ("DOWNSTREAM__ORDERS__AUTH".to_owned(), auth.to_owned()),
        ]
    };
    let mut header_key = base("api_key");
    header_key.push(("DOWNSTREAM__ORDERS__API_KEY".into(), SECRETS[0].into()));
    let mut query_key = base("api_key");
    query_key.push(("DOWNSTREAM__ORDERS__API_KEY".into(), SECRETS[1].into()));
    query_key.push(("DOWNSTREAM__ORDERS__API_KEY_QUERY".into(), "code".into()));
    let mut mi = base("managed_identity");
    mi.push(("DOWNSTREAM__ORDERS__AUDIENCE".into(), "api://orders".into()));
    mi.push((
        "IDENTITY_ENDPOINT".into(),
        format!("{}/msi/token", identity.uri()),
    ));
    mi.push(("IDENTITY_HEADER".into(), SECRETS[2].into()));
    let mut cc = base("client_credentials");
    cc.push((
        "DOWNSTREAM__ORDERS__TOKEN_URL".into(),
        format!("{}/token", identity.uri()),
    ));
    cc.push(("DOWNSTREAM__ORDERS__CLIENT_ID".into(), "agent".into()));
    cc.push((
        "DOWNSTREAM__ORDERS__CLIENT_SECRET".into(),
        SECRETS[4].into(),
    ));

    for vars in [header_key, query_key, mi, cc] {
        let config = config(vars);
        tracing::debug!(?config, "downstream settings");
        let downstream = Downstream::new(&config).expect("clients");
        let registry = build_with(&downstream).expect("registry");
        call_all(&registry).await;
    }

    let log = String::from_utf8(captured.0.lock().expect("lock").clone()).expect("utf8");
    assert!(
        log.contains("downstream call failed") && log.contains("url.template=/orders/{orderId}"),
        "the capture must see the downstream events:\n{log}"
    );
    assert!(
        !log.contains("/orders/ORD-401"),
        "concrete paths stay out of the log:\n{log}"
    );
    for secret in SECRETS {
        assert!(!log.contains(secret), "{secret} leaked into:\n{log}");
    }
}
