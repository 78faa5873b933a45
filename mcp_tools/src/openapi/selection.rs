//! The reviewed selection file (`tools.toml`): which operations of a spec become tools, with
//! what names and descriptions, and which settings key the API uses.
//!
//! ```toml
//! api = "orders"          # the API's name in messages
//! settings_key = "ORDERS" # DOWNSTREAM__ORDERS__*
//!
//! [[tool]]
//! operation = "listOrders"       # an operationId, or "GET /orders"
//! name = "list_orders"           # optional: default from the operationId, else method + path
//! description = "…"              # optional: default from summary + description
//! narrow_with = "pageSize"       # optional: the argument named when an answer is too large
//! ```

use serde::Deserialize;

use super::document::OpenApiError;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Selection {
    pub api: String,
    pub settings_key: String,
    #[serde(default, rename = "tool")]
    pub tools: Vec<SelectedOperation>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelectedOperation {
    pub operation: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub narrow_with: Option<String>,
    pub title: Option<String>,
}

impl Selection {
    pub fn parse(text: &str) -> Result<Self, OpenApiError> {
        let selection: Self = toml::from_str(text)
            .map_err(|e| OpenApiError::new(format!("the selection file is invalid: {e}")))?;
        if !crate::downstream::settings::valid_key(&selection.settings_key) {
            return Err(OpenApiError::new(format!(
                "settings_key `{}` must be upper-case letters, digits and single '_'",
                selection.settings_key
            )));
        }
        if selection.tools.is_empty() {
            return Err(OpenApiError::new("the selection file selects no operation"));
        }
        Ok(selection)
    }
}

/// `(method, path)` when `operation` is written `GET /orders/{id}`, else `None` (an id).
pub fn method_and_path(operation: &str) -> Option<(String, &str)> {
    let (method, path) = operation.split_once(' ')?;
    let path = path.trim();
    path.starts_with('/')
        .then(|| (method.trim().to_ascii_lowercase(), path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses_unknown_fields() {
        let s = Selection::parse(
            "api = \"orders\"\nsettings_key = \"ORDERS\"\n[[tool]]\noperation = \"GET /orders\"\n",
        );
        assert!(s.is_ok());
        let bad = Selection::parse(
            "api = \"orders\"\nsettings_key = \"ORDERS\"\n[[tool]]\noperation = \"x\"\nnmae = \"y\"\n",
        );
        assert!(bad.err().is_some_and(|e| e.0.contains("nmae")));
        assert_eq!(
            method_and_path("GET /orders/{id}"),
            Some(("get".to_owned(), "/orders/{id}"))
        );
        assert_eq!(method_and_path("listOrders"), None);
    }
}
