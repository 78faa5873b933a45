//! What a tool asks of a downstream API, and how that becomes a URL that cannot leave the
//! API's base URL.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::Method;
use serde_json::Value;
use url::Url;

/// Everything but the unreserved characters, and `.` too: a path parameter must stay one
/// segment, so `../` arrives as `%2E%2E%2F` and cannot climb out of the route.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'~');

/// Headers a tool may never set: the client owns them, and the inbound caller's credentials
/// must never be forwarded.
const RESERVED: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "host",
    "content-type",
    "content-length",
    "transfer-encoding",
    "connection",
    "upgrade",
    "te",
    "trailer",
    "x-functions-key",
    "traceparent",
    "tracestate",
];

pub fn is_reserved_header(name: &str) -> bool {
    RESERVED.iter().any(|r| r.eq_ignore_ascii_case(name))
}

/// One request to a downstream API, relative to its base URL.
#[derive(Debug, Clone)]
pub struct DownstreamRequest {
    pub method: Method,
    /// The route template (`/orders/{orderId}`): what logs and traces show, never the
    /// concrete path with its ids.
    pub route: String,
    /// The concrete path, each parameter already encoded with [`encode_segment`].
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub json_body: Option<Value>,
}

impl DownstreamRequest {
    pub fn new(method: Method, route: impl Into<String>, path: impl Into<String>) -> Self {
        Self {
            method,
            route: route.into(),
            path: path.into(),
            query: Vec::new(),
            headers: Vec::new(),
            json_body: None,
        }
    }

    /// A GET of a fixed path (hand-written tools); `route` is also the path template.
    pub fn get(route: impl Into<String>, path: impl Into<String>) -> Self {
        Self::new(Method::GET, route, path)
    }

    pub fn query(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.push((name.into(), value.into()));
        self
    }

    pub fn json(mut self, body: Value) -> Self {
        self.json_body = Some(body);
        self
    }

    /// Retrying is safe for these methods whatever the first attempt did downstream.
    pub fn is_idempotent(&self) -> bool {
        matches!(
            self.method,
            Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
        )
    }
}

/// One path parameter as a single, fully encoded segment.
pub fn encode_segment(value: &str) -> String {
    utf8_percent_encode(value, PATH_SEGMENT).to_string()
}

/// Expands `/orders/{orderId}` with `value(name)` for each placeholder, encoding each value.
/// A missing or empty value is an error naming the parameter: an empty segment would
/// silently call a different route.
pub fn expand_path(
    template: &str,
    mut value: impl FnMut(&str) -> Option<String>,
) -> Result<String, String> {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        let name = &rest[open + 1..open + close];
        out.push_str(&rest[..open]);
        match value(name) {
            Some(v) if !v.is_empty() => out.push_str(&encode_segment(&v)),
            _ => return Err(name.to_owned()),
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The base URL with `path` appended. `path` must be relative to the base (start with `/`,
/// no scheme, no authority): a tool can never aim at another host.
pub fn join(base: &Url, path: &str, query: &[(String, String)]) -> Result<Url, String> {
    if !path.starts_with('/') || path.starts_with("//") || path.contains('\\') {
        return Err("the request path must be relative to the API's base URL".into());
    }
    if path.split('/').any(|s| s == ".." || s == ".") {
        return Err("the request path must not contain dot segments".into());
    }
    let mut url = base.clone();
    let joined = format!("{}{}", base.path().trim_end_matches('/'), path);
    url.set_path(&joined);
    if !query.is_empty() {
        url.query_pairs_mut().extend_pairs(query);
    }
    if url.origin() != base.origin() {
        return Err("the request would leave the API's base URL".into());
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_parameters_cannot_escape_their_segment() {
        let path = expand_path("/orders/{id}/items", |_| Some("../../admin?x=1#f".into()));
        assert_eq!(
            path.as_deref(),
            Ok("/orders/%2E%2E%2F%2E%2E%2Fadmin%3Fx%3D1%23f/items")
        );
        assert_eq!(
            expand_path("/orders/{id}", |_| Some(String::new())),
            Err("id".into())
        );
        assert_eq!(encode_segment("A-1_b~c"), "A-1_b~c");
        assert_eq!(encode_segment("ü/"), "%C3%BC%2F");
    }

    #[test]
    fn join_stays_under_the_base() {
        let base = Url::parse("https://api.internal/v1").unwrap_or_else(|e| panic!("{e}"));
        let url = join(&base, "/orders/a%2Fb", &[("q".into(), "x y&z".into())]);
        assert_eq!(
            url.map(|u| u.to_string()).as_deref(),
            Ok("https://api.internal/v1/orders/a%2Fb?q=x+y%26z")
        );
        for bad in [
            "//evil.example/x",
            "https://evil.example/",
            "/a/../../x",
            "relative",
        ] {
            assert!(join(&base, bad, &[]).is_err(), "{bad}");
        }
    }

    #[test]
    fn reserved_headers() {
        assert!(is_reserved_header("Authorization"));
        assert!(is_reserved_header("X-Functions-Key"));
        assert!(!is_reserved_header("X-Request-Id"));
    }
}
