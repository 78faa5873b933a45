//! The tools generated from the embedded orders API: the mapping rules, and a snapshot of
//! every generated schema so a change to what agents see is reviewed.
//!
//! Refresh the snapshots with `UPDATE_SNAPSHOTS=1 cargo test -p mcp_tools --test openapi_tools`.

use std::path::PathBuf;

use mcp_tools::downstream::{Downstream, DownstreamConfig};
use mcp_tools::openapi::{self, Document, Selection};
use serde_json::{Value, json};

fn registry() -> mcp_tools::Registry {
    mcp_tools::build_registry(&DownstreamConfig::default()).expect("registry builds")
}

fn spec_json(name: &str) -> Value {
    let registry = registry();
    let tool = registry
        .get(name)
        .unwrap_or_else(|| panic!("no tool {name}"));
    serde_json::to_value(tool.spec().to_mcp_tool()).expect("tool json")
}

const ORDERS_TOOLS: &[&str] = &[
    "list_orders",
    "get_order",
    "create_order",
    "cancel_order",
    "delete_draft_order",
    "get_shipping_label",
    "get_stock_level",
    "set_stock_level",
    "list_warehouses",
    "get_category",
];

#[test]
fn every_selected_operation_is_a_tool() {
    let registry = registry();
    for name in ORDERS_TOOLS {
        assert!(registry.get(name).is_some(), "{name} missing");
    }
    assert!(registry.get("list_audit_events").is_none(), "not selected");
    assert!(registry.get("get_order_with_stock").is_some());
}

#[test]
fn parameters_and_body_are_arguments_and_credentials_never_are() {
    let create = spec_json("create_order");
    let props = create["inputSchema"]["properties"]
        .as_object()
        .expect("properties");
    let names: Vec<&str> = props.keys().map(String::as_str).collect();
    assert_eq!(names, ["Idempotency-Key", "body"]);
    assert_eq!(create["inputSchema"]["required"], json!(["body"]));
    assert_eq!(create["inputSchema"]["additionalProperties"], false);

    let body = &props["body"];
    // readOnly fields are the server's to set: not in the input.
    for read_only in ["id", "status", "total", "createdAt"] {
        assert!(body["properties"].get(read_only).is_none(), "{read_only}");
    }
    assert!(
        body["properties"]["lines"]["items"]["properties"]
            .get("unitPrice")
            .is_none()
    );
    assert!(
        body["properties"].get("paymentToken").is_some(),
        "writeOnly stays in inputs"
    );
    // 3.0 nullable became a type array.
    assert_eq!(
        body["properties"]["notes"]["type"],
        json!(["string", "null"])
    );

    let get = spec_json("get_order");
    assert_eq!(get["inputSchema"]["required"], json!(["orderId"]));
    let out = &get["outputSchema"]["properties"];
    assert!(
        out.get("paymentToken").is_none(),
        "writeOnly never in outputs"
    );
    assert!(out.get("id").is_some() && out.get("total").is_some());
    assert_eq!(
        out["shippingAddress"]["properties"]["country"]["pattern"],
        "^[A-Z]{2}$"
    );
}

#[test]
fn array_answers_are_wrapped_and_recursion_stays_local() {
    let warehouses = spec_json("list_warehouses");
    let out = &warehouses["outputSchema"];
    assert_eq!(out["type"], "object");
    assert_eq!(out["required"], json!(["result"]));
    assert_eq!(out["properties"]["result"]["type"], "array");

    let category = spec_json("get_category");
    let out = &category["outputSchema"];
    assert_eq!(out["type"], "object");
    assert!(out.get("$ref").is_none());
    assert_eq!(
        out["properties"]["children"]["items"],
        json!({"$ref": "#/$defs/Category"})
    );
    assert_eq!(
        out["$defs"]["Category"]["properties"]["children"]["items"]["$ref"],
        "#/$defs/Category"
    );
}

#[test]
fn annotations_follow_the_method() {
    let a = |name: &str| spec_json(name)["annotations"].clone();
    assert_eq!(a("get_order")["readOnlyHint"], true);
    assert_eq!(a("get_order")["idempotentHint"], true);
    assert_eq!(a("get_order")["openWorldHint"], true);
    assert_eq!(a("create_order")["readOnlyHint"], false);
    assert_eq!(a("create_order")["idempotentHint"], false);
    assert_eq!(a("set_stock_level")["idempotentHint"], true);
    assert_eq!(a("delete_draft_order")["destructiveHint"], true);
    assert_eq!(a("delete_draft_order")["idempotentHint"], true);
}

#[test]
fn tools_without_json_answers_have_no_output_schema() {
    assert!(
        spec_json("delete_draft_order")
            .get("outputSchema")
            .is_none()
    );
    assert!(
        spec_json("get_shipping_label")
            .get("outputSchema")
            .is_none()
    );
}

fn build(spec: Value, selection: &str) -> Result<usize, String> {
    let doc = Document::from_value(spec).map_err(|e| e.to_string())?;
    let selection = Selection::parse(selection).map_err(|e| e.to_string())?;
    let handle = Downstream::default().api("t", "T");
    openapi::tools(&doc, &selection, &handle)
        .map(|t| t.len())
        .map_err(|e| e.to_string())
}

fn one_op(op: Value) -> Value {
    json!({"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {"/things/{id}": {"post": op}}})
}

const SELECT_OP: &str =
    "api = \"t\"\nsettings_key = \"T\"\n[[tool]]\noperation = \"POST /things/{id}\"\n";

#[test]
fn name_clashes_fail_the_build() {
    let clash = one_op(json!({
        "parameters": [
            {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}},
            {"name": "id", "in": "query", "schema": {"type": "string"}}
        ],
        "responses": {"204": {"description": "ok"}}
    }));
    let e = build(clash, SELECT_OP).expect_err("clash");
    assert!(e.contains("two parameters are both named `id`"), "{e}");

    let body_clash = one_op(json!({
        "parameters": [
            {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}},
            {"name": "body", "in": "query", "schema": {"type": "string"}}
        ],
        "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}},
        "responses": {"204": {"description": "ok"}}
    }));
    let e = build(body_clash, SELECT_OP).expect_err("clash");
    assert!(e.contains("clashes with the request body"), "{e}");

    let two_tools = "api = \"t\"\nsettings_key = \"T\"\n[[tool]]\noperation = \"POST /things/{id}\"\nname = \"x\"\n[[tool]]\noperation = \"POST /things/{id}\"\nname = \"X\"\n";
    let ok = one_op(json!({
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
        "responses": {"204": {"description": "ok"}}
    }));
    let e = build(ok.clone(), two_tools).expect_err("duplicate names");
    assert!(e.contains("used twice"), "{e}");
    assert_eq!(build(ok, SELECT_OP), Ok(1));
}

#[test]
fn unsupported_shapes_fail_the_build_with_a_reason() {
    let undeclared = one_op(json!({"responses": {"204": {"description": "ok"}}}));
    let e = build(undeclared, SELECT_OP).expect_err("undeclared path param");
    assert!(e.contains("path parameter `id` is not declared"), "{e}");

    let object_in_path = one_op(json!({
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "object"}}],
        "responses": {"204": {"description": "ok"}}
    }));
    assert!(build(object_in_path, SELECT_OP).is_err());

    let remote_ref = one_op(json!({
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"$ref": "other.yaml#/X"}}],
        "responses": {"204": {"description": "ok"}}
    }));
    let e = build(remote_ref, SELECT_OP).expect_err("remote ref");
    assert!(e.contains("not a local reference"), "{e}");

    let missing = "api = \"t\"\nsettings_key = \"T\"\n[[tool]]\noperation = \"nope\"\n";
    let e = build(one_op(json!({})), missing).expect_err("missing op");
    assert!(e.contains("no operation has operationId `nope`"), "{e}");
}

#[test]
fn schemas_match_the_snapshots() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/orders");
    let registry = registry();
    let update = std::env::var_os("UPDATE_SNAPSHOTS").is_some();
    if update {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("snapshot dir");
    }
    let mut names: Vec<&str> = ORDERS_TOOLS.to_vec();
    names.push("get_order_with_stock");
    for name in names {
        let tool = registry.get(name).expect("tool");
        let spec = tool.spec();
        let snapshot = json!({
            "name": spec.name,
            "title": spec.title,
            "description": spec.description,
            "annotations": spec.annotations_json(),
            "inputSchema": *spec.input_schema,
            "outputSchema": spec.output_schema.as_deref(),
        });
        let mut text = serde_json::to_string_pretty(&snapshot).expect("json");
        text.push('\n');
        let path = dir.join(format!("{name}.json"));
        if update {
            std::fs::write(&path, text).expect("write snapshot");
        } else {
            let want = std::fs::read_to_string(&path).unwrap_or_else(|_| {
                panic!("{} missing (UPDATE_SNAPSHOTS=1 to create)", path.display())
            });
            assert_eq!(text, want, "{name} drifted; review and UPDATE_SNAPSHOTS=1");
        }
    }
}
