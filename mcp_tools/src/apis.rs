//! The internal APIs whose OpenAPI documents are embedded in the binary, so a deployment is
//! self-contained and `handler functions` emits their tools like any other.
//!
//! To add one: put `openapi.yaml` (or `.json`) and a reviewed `tools.toml` under
//! `mcp_tools/apis/<api>/` and add a line below. The registry-build test then proves every
//! selected operation maps to a valid tool.

/// One embedded API: its spec and the selection of its operations.
#[derive(Debug, Clone, Copy)]
pub struct EmbeddedApi {
    pub folder: &'static str,
    pub spec: &'static str,
    pub selection: &'static str,
}

pub const EMBEDDED: &[EmbeddedApi] = &[EmbeddedApi {
    folder: "orders",
    spec: include_str!("../apis/orders/openapi.yaml"),
    selection: include_str!("../apis/orders/tools.toml"),
}];
