//! The hostile-input corpus, generated from compact tables and from every tool's input schema,
//! so a new tool or argument is attacked without anyone adding cases by hand.
//!
//! Two kinds of case: argument-level cases (a tool name and the raw JSON text of its
//! arguments) that every front door must answer alike, and request-level cases (method, path,
//! headers, body bytes) that only the invocation endpoint sees.
#![allow(dead_code)]

use std::collections::BTreeMap;

use mcp_tools::Registry;
use serde_json::{Value, json};

/// What a case must be answered with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// A result without `isError`.
    Ok,
    /// 200 + `isError`; the text names this argument when one is at fault.
    IsError(Option<String>),
    /// This 4xx with a JSON `{"error": {"code", "message"}}` body.
    Status(u16),
    /// This status and no body to read (HEAD).
    StatusOnly(u16),
}

/// One tool call with hostile arguments.
#[derive(Debug, Clone)]
pub struct ArgCase {
    pub category: &'static str,
    pub name: String,
    pub tool: String,
    /// JSON text, not a `Value`: some cases (`1e400`, `"\ud800"`) cannot be a `Value`.
    pub arguments: String,
    pub expect: Expect,
    /// Sent through the MCP front doors too (the representative subset).
    pub mcp: bool,
}

/// One raw HTTP request to the invocation endpoint.
#[derive(Debug, Clone)]
pub struct RequestCase {
    pub category: &'static str,
    pub name: String,
    pub method: &'static str,
    pub path: String,
    pub content_type: Option<&'static str>,
    pub body: Vec<u8>,
    pub expect: Expect,
}

/// Sent by "the caller" inside every tool context, as the host does: must never come back.
pub const CALLER_KEY: &str = "hostile-caller-key-91c3e7a2";

/// The argument that no tool accepts.
pub const EXTRA: &str = "hostile_extra_property";

/// Arguments that pass validation, per tool: a generated case changes one thing only, so
/// the answer can name the argument at fault.
pub fn valid_arguments(tool: &str) -> Option<Value> {
    let order_id = json!({"orderId": "ORD-1"});
    Some(match tool {
        "hello_mcp" | "list_orders" | "list_warehouses" => json!({}),
        "get_snippet" => json!({"snippetname": "hostile-base"}),
        "save_snippet" => json!({"snippetname": "hostile-base", "snippet": "x"}),
        "get_order" | "delete_draft_order" | "get_shipping_label" | "get_order_with_stock" => {
            order_id
        }
        "cancel_order" => json!({"orderId": "ORD-1", "body": {"reason": "other"}}),
        "create_order" => json!({"body": {
            "customerId": "C-1",
            "lines": [{"sku": "CHAIR-1", "quantity": 1}],
            "shippingAddress": {"name": "N", "line1": "L", "city": "C", "postalCode": "1", "country": "DE"}
        }}),
        "get_stock_level" => json!({"sku": "CHAIR-1"}),
        "set_stock_level" => {
            json!({"sku": "CHAIR-1", "body": {"warehouseId": "WH-BER1", "available": 1}})
        }
        "get_category" => json!({"categoryId": "chairs"}),
        _ => return None,
    })
}

/// The tools whose generated cases also go through the MCP front doors.
const MCP_TOOLS: &[&str] = &[
    "save_snippet",
    "get_order",
    "list_orders",
    "set_stock_level",
];

fn with(tool: &str, name: &str, value: Value) -> String {
    let mut args = valid_arguments(tool).unwrap_or_else(|| json!({}));
    args[name] = value;
    args.to_string()
}

fn types_of(property: &Value) -> Vec<&str> {
    match property.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// Does `sample` (of JSON type `kind`) satisfy the property's type and enum?
fn accepted(property: &Value, kind: &str, sample: &Value) -> bool {
    if let Some(values) = property.get("enum").and_then(Value::as_array) {
        return values.contains(sample);
    }
    let types = types_of(property);
    types.contains(&kind) || (kind == "integer" && types.contains(&"number"))
}

/// For every property of every tool: each wrong JSON type, null, and one extra property.
pub fn schema_cases(registry: &Registry) -> Vec<ArgCase> {
    let samples = [
        ("string", json!("h0stile-value")),
        ("integer", json!(42)),
        ("number", json!(1.5)),
        ("boolean", json!(true)),
        ("array", json!([1])),
        ("object", json!({"a": 1})),
        ("null", Value::Null),
    ];
    let mut cases = Vec::new();
    for spec in registry.specs() {
        let tool = spec.name.to_string();
        let mcp = MCP_TOOLS.contains(&tool.as_str());
        let properties = spec
            .input_schema
            .get("properties")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        for (name, property) in &properties {
            // Without a type or an enum every JSON value may be fine: nothing to generate.
            if types_of(property).is_empty() && property.get("enum").is_none() {
                continue;
            }
            for (kind, sample) in &samples {
                if accepted(property, kind, sample) {
                    continue;
                }
                let category = if *kind == "null" {
                    "null"
                } else {
                    "wrong_type"
                };
                cases.push(ArgCase {
                    category,
                    name: format!("{tool}.{name}={kind}"),
                    tool: tool.clone(),
                    arguments: with(&tool, name, sample.clone()),
                    expect: Expect::IsError(Some(name.clone())),
                    mcp,
                });
            }
        }
        cases.push(ArgCase {
            category: "extra_property",
            name: format!("{tool}+extra"),
            tool: tool.clone(),
            arguments: with(&tool, EXTRA, json!(1)),
            expect: Expect::IsError(Some(EXTRA.to_owned())),
            mcp: true,
        });
    }
    cases
}

fn arg(
    category: &'static str,
    name: impl Into<String>,
    tool: &str,
    arguments: String,
    expect: Expect,
    mcp: bool,
) -> ArgCase {
    ArgCase {
        category,
        name: name.into(),
        tool: tool.to_owned(),
        arguments,
        expect,
        mcp,
    }
}

fn names(argument: &str) -> Expect {
    Expect::IsError(Some(argument.to_owned()))
}

/// Hand-picked argument-level cases: unicode, sizes, depth, numbers, path tricks.
pub fn table_cases() -> Vec<ArgCase> {
    let mut cases = Vec::new();
    let save =
        |name: &str, snippet: &str| json!({"snippetname": name, "snippet": snippet}).to_string();

    // Unicode that is valid JSON: fine as content, refused (named) as a snippet name, fine
    // as an unconstrained query parameter.
    let unicode = [
        ("rtl_override", "\u{202E}txt.exe"),
        ("rtl_hebrew", "שלום עולם"),
        ("combining", "e\u{301}\u{302}\u{303}\u{304}\u{305}\u{306}"),
        ("emoji_zwj", "👩\u{200D}👩\u{200D}👧\u{200D}👦"),
        ("bom", "\u{FEFF}x"),
        ("noncharacter", "\u{FFFF}\u{FFFE}"),
        ("nul_escaped", "a\u{0}b"),
        ("zero_width", "a\u{200B}b"),
    ];
    for (label, text) in unicode {
        cases.push(arg(
            "unicode",
            format!("content:{label}"),
            "save_snippet",
            save(&format!("hostile-{label}"), text),
            Expect::Ok,
            true,
        ));
        cases.push(arg(
            "unicode",
            format!("name:{label}"),
            "save_snippet",
            save(&format!("a{text}"), "x"),
            names("snippetname"),
            true,
        ));
        cases.push(arg(
            "unicode",
            format!("query:{label}"),
            "list_orders",
            json!({"customerId": text}).to_string(),
            Expect::Ok,
            true,
        ));
        // An argument *name* in a strange script is still named, not echoed raw elsewhere.
        cases.push(arg(
            "unicode",
            format!("key:{label}"),
            "hello_mcp",
            json!({ text: 1 }).to_string(),
            Expect::IsError(None),
            true,
        ));
    }
    // Escapes serde_json refuses: a lone surrogate is not a Unicode scalar value. The whole
    // body (or the string-encoded context) does not parse: a 400 with a reason.
    for (label, escape) in [
        ("lone_high", r"\ud800"),
        ("lone_low", r"\udc00"),
        ("reversed_pair", r"\udc00\ud800"),
        ("high_then_text", r"\ud800x"),
    ] {
        cases.push(arg(
            "unicode",
            format!("surrogate:{label}"),
            "save_snippet",
            format!(r#"{{"snippetname":"s","snippet":"{escape}"}}"#),
            Expect::Status(400),
            false,
        ));
    }
    cases.push(arg(
        "unicode",
        "surrogate:paired",
        "save_snippet",
        r#"{"snippetname":"hostile-pair","snippet":"\ud83d\ude00"}"#.to_owned(),
        Expect::Ok,
        false,
    ));

    // Sizes: at the limit, one past it, ten times it; a huge array where a string belongs.
    let mb = 1_048_576;
    cases.push(arg(
        "size",
        "1MB snippet at the limit",
        "save_snippet",
        save("hostile-1mb", &"x".repeat(mb)),
        Expect::Ok,
        true,
    ));
    cases.push(arg(
        "size",
        "1MB+1 snippet",
        "save_snippet",
        save("hostile-1mb1", &"x".repeat(mb + 1)),
        names("snippet"),
        true,
    ));
    cases.push(arg(
        "size",
        "10MB snippet",
        "save_snippet",
        save("hostile-10mb", &"y".repeat(10 * mb)),
        names("snippet"),
        false,
    ));
    cases.push(arg(
        "size",
        "1MB snippet name",
        "get_snippet",
        json!({"snippetname": "n".repeat(mb)}).to_string(),
        names("snippetname"),
        true,
    ));
    cases.push(arg(
        "size",
        "1MB orderId",
        "get_order",
        json!({"orderId": "1".repeat(mb)}).to_string(),
        names("orderId"),
        true,
    ));
    cases.push(arg(
        "size",
        "1MB argument name",
        "hello_mcp",
        json!({ "k".repeat(mb): 1 }).to_string(),
        Expect::IsError(None),
        false,
    ));
    let big_array = format!("[{}0]", "0,".repeat(1_000_000));
    cases.push(arg(
        "size",
        "1M-element array as a name",
        "get_snippet",
        format!(r#"{{"snippetname":{big_array}}}"#),
        names("snippetname"),
        false,
    ));
    let lines = format!(
        "[{}]",
        vec![r#"{"sku":"A","quantity":1}"#; 100_000].join(",")
    );
    cases.push(arg(
        "size",
        "100k order lines",
        "create_order",
        format!(
            r#"{{"body":{{"customerId":"C","lines":{lines},"shippingAddress":{{"name":"N","line1":"L","city":"C","postalCode":"1","country":"DE"}}}}}}"#
        ),
        names("body.lines"),
        false,
    ));
    cases.push(arg(
        "size",
        "100k extra properties",
        "hello_mcp",
        format!(
            "{{{}}}",
            (0..100_000)
                .map(|i| format!(r#""k{i}":{i}"#))
                .collect::<Vec<_>>()
                .join(",")
        ),
        Expect::IsError(None),
        false,
    ));

    // Nesting: within serde_json's limit (128) it is an ordinary wrong type; past it, the
    // text does not parse at all, which must be a 400 and never a stack overflow.
    for depth in [100usize, 10_000, 100_000] {
        let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let expect = if depth < 128 {
            names("snippetname")
        } else {
            Expect::Status(400)
        };
        cases.push(arg(
            "nesting",
            format!("array depth {depth}"),
            "get_snippet",
            format!(r#"{{"snippetname":{nested}}}"#),
            expect.clone(),
            false,
        ));
        let objects = format!("{}1{}", r#"{"a":"#.repeat(depth), "}".repeat(depth));
        cases.push(arg(
            "nesting",
            format!("object depth {depth}"),
            "hello_mcp",
            format!(r#"{{"deep":{objects}}}"#),
            if depth < 128 {
                names("deep")
            } else {
                Expect::Status(400)
            },
            false,
        ));
    }

    // Numbers out of range. 1e400 is not a finite double: serde_json refuses the text.
    for (label, number, expect, mcp) in [
        ("1e400", "1e400", Expect::Status(400), false),
        ("-1e400", "-1e400", Expect::Status(400), false),
        ("-1", "-1", names("pageSize"), true),
        ("0", "0", names("pageSize"), true),
        ("101", "101", names("pageSize"), true),
        ("u64max+1", "18446744073709551616", names("pageSize"), true),
        ("i64min-1", "-9223372036854775809", names("pageSize"), true),
        ("1.5", "1.5", names("pageSize"), true),
        // JSON Schema: a number with no fractional part is an integer.
        ("1e2", "1e2", Expect::Ok, true),
        ("1.0", "1.0", Expect::Ok, true),
        ("-0", "-0", names("pageSize"), true),
        ("5e-324", "5e-324", names("pageSize"), true),
    ] {
        cases.push(arg(
            "numbers",
            format!("pageSize={label}"),
            "list_orders",
            format!(r#"{{"pageSize":{number}}}"#),
            expect,
            mcp,
        ));
    }
    for (label, number) in [
        ("-1", "-1"),
        ("1000001", "1000001"),
        ("u64max+1", "18446744073709551616"),
        ("1.5", "1.5"),
    ] {
        cases.push(arg(
            "numbers",
            format!("available={label}"),
            "set_stock_level",
            format!(
                r#"{{"sku":"CHAIR-1","body":{{"warehouseId":"WH-BER1","available":{number}}}}}"#
            ),
            names("body.available"),
            true,
        ));
    }

    // Path tricks: in a snippet name (a blob path) and in an OpenAPI path parameter they
    // are refused by the pattern and named; in a query parameter they are a value like any
    // other, and the recorded downstream requests must show nothing escaped.
    let tricks = [
        ("dotdot", "../x"),
        ("dotdot_deep", "../../../../etc/passwd"),
        ("encoded_dotdot", "%2e%2e%2fx"),
        ("double_encoded", "%252e%252e%252f"),
        ("absolute", "/etc/passwd"),
        ("backslash", "..\\..\\x"),
        ("windows_drive", "C:\\Windows"),
        ("unc", "\\\\server\\share"),
        ("fullwidth_dots", "．．／x"),
        ("fullwidth_solidus", "a／b"),
        ("crlf", "a\r\nX-Injected: 1"),
        ("question", "a?admin=1"),
        ("hash", "a#frag"),
        ("ampersand", "a&pageSize=1"),
        ("nul", "a\u{0}b"),
        ("dot", "."),
        ("dotdot_bare", ".."),
        ("semicolon", "a;b"),
        ("at", "@evil.example"),
        ("scheme", "http://evil.example/"),
    ];
    for (label, value) in tricks {
        cases.push(arg(
            "path_traversal",
            format!("snippetname:{label}"),
            "save_snippet",
            save(value, "x"),
            names("snippetname"),
            true,
        ));
        cases.push(arg(
            "path_traversal",
            format!("orderId:{label}"),
            "get_order",
            json!({ "orderId": value }).to_string(),
            names("orderId"),
            true,
        ));
        cases.push(arg(
            "path_traversal",
            format!("categoryId:{label}"),
            "get_category",
            json!({ "categoryId": value }).to_string(),
            names("categoryId"),
            false,
        ));
        cases.push(arg(
            "path_traversal",
            format!("customerId:{label}"),
            "list_orders",
            json!({ "customerId": value }).to_string(),
            Expect::Ok,
            true,
        ));
        cases.push(arg(
            "path_traversal",
            format!("pageToken:{label}"),
            "list_orders",
            json!({ "pageToken": value }).to_string(),
            Expect::Ok,
            false,
        ));
    }
    // Header injection through a header parameter: a CR/LF can never become a header.
    for (label, value) in [
        ("crlf", "a\r\nX-Injected: 1"),
        ("lf", "a\nX-Injected: 1"),
        ("nul", "a\u{0}b"),
    ] {
        cases.push(arg(
            "path_traversal",
            format!("header:{label}"),
            "set_stock_level",
            json!({"sku": "CHAIR-1", "X-Request-Id": value, "body": {"warehouseId": "WH-BER1", "available": 1}}).to_string(),
            Expect::IsError(None),
            true,
        ));
    }
    cases
}

/// The tool context the host would send, as JSON text, with the caller's credentials in it.
pub fn context_text(tool: &str, arguments: &str) -> String {
    let transport = json!({
        "name": "http-streamable",
        "properties": {"headers": {"x-functions-key": CALLER_KEY, "user-agent": "hostile/1"}}
    });
    format!(
        r#"{{"name":{},"arguments":{arguments},"transport":{transport}}}"#,
        Value::String(tool.to_owned())
    )
}

/// `text` as a JSON string literal, `layers` times over.
pub fn encode(text: &str, layers: usize) -> String {
    let mut out = text.to_owned();
    for _ in 0..layers {
        out = Value::String(out).to_string();
    }
    out
}

/// An invocation body with the context under `trigger`, string-encoded `layers` times.
pub fn invocation_body(tool: &str, arguments: &str, trigger: &str, layers: usize) -> String {
    let trigger = Value::String(trigger.to_owned());
    format!(
        r#"{{"Data":{{{trigger}:{}}},"Metadata":{{"sys":{{"MethodName":"x"}}}}}}"#,
        encode(&context_text(tool, arguments), layers)
    )
}

fn req(
    category: &'static str,
    name: impl Into<String>,
    method: &'static str,
    path: &str,
    body: impl Into<Vec<u8>>,
    expect: Expect,
) -> RequestCase {
    RequestCase {
        category,
        name: name.into(),
        method,
        path: path.to_owned(),
        content_type: Some("application/json; charset=utf-8"),
        body: body.into(),
        expect,
    }
}

/// Request-level cases: bodies, content types, envelopes, encodings, names and methods.
pub fn request_cases(registry: &Registry) -> Vec<RequestCase> {
    let mut cases = Vec::new();
    let good = invocation_body("hello_mcp", "{}", "context", 2);
    let save_good = invocation_body(
        "save_snippet",
        r#"{"snippetname":"hostile-env","snippet":"x"}"#,
        "context",
        2,
    );

    // Malformed and truncated JSON: every prefix length on a stride, and classic breakage.
    for cut in (0..good.len()).step_by(9) {
        cases.push(req(
            "malformed_json",
            format!("truncated at {cut}"),
            "POST",
            "/hello_mcp",
            &good.as_bytes()[..cut],
            Expect::Status(400),
        ));
    }
    for (label, body) in [
        ("trailing comma", r#"{"Data":{},}"#),
        ("single quotes", r#"{'Data':{}}"#),
        ("unquoted key", r#"{Data:{}}"#),
        ("two documents", r#"{"Data":{}}{"Data":{}}"#),
        ("trailing garbage", r#"{"Data":{}} x"#),
        ("comment", r#"{"Data":{} /* c */}"#),
        ("NaN", r#"{"Data":NaN}"#),
        ("bare string", r#""Data""#),
        ("number", "42"),
        ("true", "true"),
        ("null", "null"),
        ("array", "[]"),
        ("array of invocation", r#"[{"Data":{}}]"#),
        ("BOM prefix", "\u{FEFF}{\"Data\":{}}"),
        (
            "control char in string",
            "{\"Data\":{\"context\":\"a\u{1}b\"}}",
        ),
        ("unterminated string", r#"{"Data":{"context":"abc}}"#),
        ("bad escape", r#"{"Data":{"context":"\q"}}"#),
        ("duplicate-only nothing", r#"{"nothing":1}"#),
        ("lone surrogate key", r#"{"\ud800":1}"#),
        ("1e400 top level", r#"{"Data":1e400}"#),
    ] {
        cases.push(req(
            "malformed_json",
            label,
            "POST",
            "/hello_mcp",
            body,
            Expect::Status(400),
        ));
    }
    // Raw bytes that are not UTF-8, and raw NULs: not JSON.
    for (label, body) in [
        (
            "invalid utf-8 in string",
            b"{\"Data\":{\"context\":\"\xff\xfe\"}}".to_vec(),
        ),
        (
            "overlong utf-8",
            b"{\"Data\":{\"context\":\"\xc0\xaf\"}}".to_vec(),
        ),
        ("utf-16 body", {
            let mut b = vec![0xff, 0xfe];
            for u in good.encode_utf16() {
                b.extend_from_slice(&u.to_le_bytes());
            }
            b
        }),
        (
            "raw NUL in string",
            b"{\"Data\":{\"context\":\"a\0b\"}}".to_vec(),
        ),
        ("raw NUL after body", [good.as_bytes(), b"\0"].concat()),
        ("only NULs", vec![0u8; 64]),
        ("random bytes", (0..=255u8).cycle().take(4096).collect()),
    ] {
        cases.push(req(
            "invalid_bytes",
            label,
            "POST",
            "/hello_mcp",
            body,
            Expect::Status(400),
        ));
    }

    // Content types: the host always sends JSON, the body decides; a wrong type with a good
    // body is served, a wrong type with a bad body is a 400.
    for ct in [
        None,
        Some("text/plain"),
        Some("application/xml"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        Some("application/json; charset=utf-16"),
        Some("garbage"),
    ] {
        let mut ok = req(
            "content_type",
            format!("{ct:?} good body"),
            "POST",
            "/hello_mcp",
            good.clone(),
            Expect::Ok,
        );
        ok.content_type = ct;
        cases.push(ok);
        let mut bad = req(
            "content_type",
            format!("{ct:?} form body"),
            "POST",
            "/hello_mcp",
            "Data=1&Metadata=2",
            Expect::Status(400),
        );
        bad.content_type = ct;
        cases.push(bad);
    }

    // Empty bodies, whitespace-only bodies.
    for (label, body) in [
        ("empty", ""),
        ("space", " "),
        ("newlines", "\r\n\r\n"),
        ("tab", "\t"),
    ] {
        for tool in ["hello_mcp", "save_snippet"] {
            cases.push(req(
                "empty_body",
                format!("{label} to {tool}"),
                "POST",
                &format!("/{tool}"),
                body,
                Expect::Status(400),
            ));
        }
    }

    // The envelope: Data missing, null, an array, a string, with and without Metadata.
    // With Metadata the call is decoded with no arguments: fine for hello_mcp, and a named
    // missing argument for save_snippet. Without either, it is not an invocation.
    for (label, data) in [
        ("Data missing", None),
        ("Data null", Some("null")),
        ("Data array", Some("[1,2]")),
        ("Data string", Some(r#""x""#)),
        ("Data number", Some("7")),
        ("Data empty object", Some("{}")),
    ] {
        let with_meta = match data {
            Some(d) => format!(r#"{{"Data":{d},"Metadata":{{}}}}"#),
            None => r#"{"Metadata":{}}"#.to_owned(),
        };
        cases.push(req(
            "envelope",
            format!("{label}, Metadata, hello_mcp"),
            "POST",
            "/hello_mcp",
            with_meta.clone(),
            Expect::Ok,
        ));
        cases.push(req(
            "envelope",
            format!("{label}, Metadata, save_snippet"),
            "POST",
            "/save_snippet",
            with_meta,
            names("snippetname"),
        ));
        let without_meta = match data {
            Some(d) => format!(r#"{{"Data":{d}}}"#),
            None => "{}".to_owned(),
        };
        let expect = if data.is_none() {
            Expect::Status(400)
        } else {
            Expect::Ok
        };
        cases.push(req(
            "envelope",
            format!("{label}, no Metadata"),
            "POST",
            "/hello_mcp",
            without_meta,
            expect,
        ));
    }
    for (label, context) in [
        ("context number", "1"),
        ("context array", "[]"),
        ("context true", "true"),
        ("context string not JSON", r#""{not json""#),
        ("context string of array", r#""[1]""#),
    ] {
        cases.push(req(
            "envelope",
            label,
            "POST",
            "/hello_mcp",
            format!(r#"{{"Data":{{"context":{context}}},"Metadata":{{}}}}"#),
            Expect::Status(400),
        ));
    }
    cases.push(req(
        "envelope",
        "context null",
        "POST",
        "/hello_mcp",
        r#"{"Data":{"context":null},"Metadata":{}}"#,
        Expect::Ok,
    ));
    cases.push(req(
        "envelope",
        "arguments not an object",
        "POST",
        "/save_snippet",
        invocation_body("save_snippet", "[1,2]", "context", 2),
        Expect::IsError(None),
    ));
    cases.push(req(
        "envelope",
        "arguments a string",
        "POST",
        "/save_snippet",
        invocation_body("save_snippet", r#""snippetname""#, "context", 2),
        Expect::IsError(None),
    ));

    // Every encoding depth, for a call that succeeds and one that fails validation. Four
    // layers is past what we unwrap: a 400.
    let bad_save = r#"{"snippetname":42,"snippet":"x"}"#;
    for layers in 0..=4 {
        let expect_ok = if layers <= 3 {
            Expect::Ok
        } else {
            Expect::Status(400)
        };
        cases.push(req(
            "encoding_depth",
            format!("hello at {layers} layers"),
            "POST",
            "/hello_mcp",
            invocation_body("hello_mcp", "{}", "context", layers),
            expect_ok.clone(),
        ));
        cases.push(req(
            "encoding_depth",
            format!("save at {layers} layers"),
            "POST",
            "/save_snippet",
            invocation_body(
                "save_snippet",
                r#"{"snippetname":"hostile-depth","snippet":"\"quoted\" {json}"}"#,
                "context",
                layers,
            ),
            expect_ok,
        ));
        cases.push(req(
            "encoding_depth",
            format!("wrong type at {layers} layers"),
            "POST",
            "/save_snippet",
            invocation_body("save_snippet", bad_save, "context", layers),
            if layers <= 3 {
                names("snippetname")
            } else {
                Expect::Status(400)
            },
        ));
    }

    // The trigger under another name: found when it looks like a context; the key is read
    // case-insensitively.
    for trigger in [
        "Context",
        "CONTEXT",
        "mcpToolTrigger",
        "req",
        "toolContext",
        "ctx\u{0}",
        "контекст",
    ] {
        cases.push(req(
            "trigger_name",
            format!("hello under {trigger:?}"),
            "POST",
            "/hello_mcp",
            invocation_body("hello_mcp", "{}", trigger, 2),
            Expect::Ok,
        ));
        cases.push(req(
            "trigger_name",
            format!("wrong type under {trigger:?}"),
            "POST",
            "/save_snippet",
            invocation_body("save_snippet", bad_save, trigger, 2),
            names("snippetname"),
        ));
    }
    cases.push(req(
        "trigger_name",
        "two unknown contexts",
        "POST",
        "/hello_mcp",
        format!(
            r#"{{"Data":{{"a":{},"b":{}}}}}"#,
            encode(&context_text("hello_mcp", "{}"), 2),
            encode(&context_text("hello_mcp", "{}"), 1)
        ),
        Expect::Ok,
    ));
    cases.push(req(
        "trigger_name",
        "under the blob binding's name",
        "POST",
        "/save_snippet",
        format!(
            r#"{{"Data":{{"snippet":{}}},"Metadata":{{}}}}"#,
            encode(&context_text("save_snippet", bad_save), 2)
        ),
        names("snippetname"),
    ));

    // Unknown function names, including ones that decode to something path-like.
    for path in [
        "/no_such_tool",
        "/hello_mcp%00",
        "/hello_mcp%20",
        "/%2e%2e",
        "/..%2fhello_mcp",
        "/%2fhello_mcp",
        "/hello_mcp%2f",
        "/h%C3%A9llo",
        "/%F0%9F%9A%80",
        "/%ff",
        "/hello_mcp;x",
        "/%EF%BD%88ello_mcp",
        "/hello%5fmcp%5f",
        "/runtime",
        "/admin",
    ] {
        cases.push(req(
            "unknown_function",
            path,
            "POST",
            path,
            good.clone(),
            Expect::Status(404),
        ));
    }
    let long = format!("/{}", "a".repeat(10_000));
    cases.push(req(
        "unknown_function",
        "10k-character name",
        "POST",
        &long,
        good.clone(),
        Expect::Status(404),
    ));
    for path in ["/hello_mcp/", "/hello_mcp/x", "/a/b/c", "//hello_mcp"] {
        cases.push(req(
            "unknown_function",
            path,
            "POST",
            path,
            good.clone(),
            Expect::Status(404),
        ));
    }
    // Percent-encoded but real: the decoded name is a tool, and the lookup is
    // case-insensitive like the host's.
    for path in ["/hello%5Fmcp", "/HELLO_MCP", "/Hello_Mcp"] {
        cases.push(req(
            "unknown_function",
            format!("{path} (a real tool)"),
            "POST",
            path,
            good.clone(),
            Expect::Ok,
        ));
    }

    // Every other method on every path.
    let mut paths: Vec<String> = registry.specs().map(|s| format!("/{}", s.name)).collect();
    paths.extend([
        "/".to_owned(),
        "/no_such_tool".to_owned(),
        "/a/b".to_owned(),
    ]);
    for path in &paths {
        for method in [
            "GET", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "POST",
        ] {
            let expect = match (path.as_str(), method) {
                ("/a/b", "HEAD") => Expect::StatusOnly(404),
                ("/a/b", _) => Expect::Status(404),
                ("/", "GET") => continue,
                ("/", "HEAD") => Expect::StatusOnly(200),
                (_, "HEAD") => Expect::StatusOnly(405),
                ("/", _) => Expect::Status(405),
                (_, "POST") => continue,
                _ => Expect::Status(405),
            };
            cases.push(req(
                "wrong_method",
                format!("{method} {path}"),
                method,
                path,
                save_good.clone(),
                expect,
            ));
        }
    }
    cases
}

/// Counts per category, for the summary table.
pub fn tally<'a>(categories: impl Iterator<Item = &'a str>) -> BTreeMap<&'a str, usize> {
    let mut counts = BTreeMap::new();
    for c in categories {
        *counts.entry(c).or_default() += 1;
    }
    counts
}

pub fn print_table(title: &str, counts: &BTreeMap<&str, usize>) {
    eprintln!("\n{title}");
    eprintln!("{:<20} {:>6}", "category", "cases");
    for (category, n) in counts {
        eprintln!("{category:<20} {n:>6}");
    }
    eprintln!("{:<20} {:>6}", "total", counts.values().sum::<usize>());
}
