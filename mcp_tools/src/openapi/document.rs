//! An OpenAPI 3.0/3.1 document (JSON or YAML) as a JSON value, and its local references.
//!
//! A typed model (`openapiv3` knows only 3.0, `oas3` only 3.1) buys little when what we do
//! is rewrite schemas as JSON anyway, so the document stays a `serde_json::Value`.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct OpenApiError(pub String);

impl OpenApiError {
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

#[derive(Debug, Clone)]
pub struct Document {
    root: Value,
}

/// `$ref` chains longer than this are a loop.
const MAX_REF_HOPS: usize = 32;

impl Document {
    /// Parses JSON, or YAML when the text is not JSON.
    pub fn parse(text: &str) -> Result<Self, OpenApiError> {
        let root: Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(_) => serde_norway::from_str(text).map_err(|e| {
                OpenApiError::new(format!("the document is neither JSON nor YAML: {e}"))
            })?,
        };
        Self::from_value(root)
    }

    pub fn from_value(root: Value) -> Result<Self, OpenApiError> {
        let version = root
            .get("openapi")
            .and_then(Value::as_str)
            .ok_or_else(|| OpenApiError::new("not an OpenAPI 3 document (no `openapi` field)"))?;
        if !(version.starts_with("3.0.") || version.starts_with("3.1.")) {
            return Err(OpenApiError::new(format!(
                "OpenAPI {version} is not supported (3.0.x and 3.1.x are)"
            )));
        }
        if !root.get("paths").is_some_and(Value::is_object) {
            return Err(OpenApiError::new("the document has no `paths` object"));
        }
        Ok(Self { root })
    }

    pub fn root(&self) -> &Value {
        &self.root
    }

    /// `#/components/schemas/X` → `/components/schemas/X`, refusing anything not local:
    /// a deployed binary must not fetch schemas, and a spec must be self-contained to review.
    pub fn local_pointer(&self, reference: &str) -> Result<String, OpenApiError> {
        match reference.strip_prefix('#') {
            Some(pointer) if pointer.is_empty() || pointer.starts_with('/') => {
                Ok(pointer.to_owned())
            }
            _ => Err(OpenApiError::new(format!(
                "`$ref: {reference}` is not a local reference; bundle the document first \
                 (e.g. `redocly bundle`)"
            ))),
        }
    }

    pub fn pointer(&self, pointer: &str) -> Result<&Value, OpenApiError> {
        self.root
            .pointer(pointer)
            .ok_or_else(|| OpenApiError::new(format!("`$ref: #{pointer}` points at nothing")))
    }

    /// Follows `$ref` (parameters, request bodies, responses) to the object it names.
    pub fn resolve<'a>(&'a self, mut value: &'a Value) -> Result<&'a Value, OpenApiError> {
        for _ in 0..MAX_REF_HOPS {
            match value.get("$ref").and_then(Value::as_str) {
                Some(reference) => value = self.pointer(&self.local_pointer(reference)?)?,
                None => return Ok(value),
            }
        }
        Err(OpenApiError::new("a `$ref` chain loops"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_yaml_and_json_and_checks_the_version() {
        let yaml = "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\n";
        assert!(Document::parse(yaml).is_ok());
        assert!(Document::parse(r#"{"openapi":"3.0.3","paths":{}}"#).is_ok());
        let swagger = Document::parse(r#"{"swagger":"2.0","paths":{}}"#);
        assert!(swagger.is_err());
        assert!(Document::parse(r#"{"openapi":"4.0.0","paths":{}}"#).is_err());
    }

    #[test]
    fn resolves_chains_and_refuses_loops() {
        let d = Document::parse(
            r##"{"openapi":"3.0.3","paths":{},"components":{"parameters":{
                "A":{"$ref":"#/components/parameters/B"},"B":{"name":"b","in":"query"},
                "L":{"$ref":"#/components/parameters/L"}}}}"##,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let a = serde_json::json!({"$ref": "#/components/parameters/A"});
        assert_eq!(d.resolve(&a).map(|v| v["name"].clone()), Ok("b".into()));
        let l = serde_json::json!({"$ref": "#/components/parameters/L"});
        assert!(d.resolve(&l).is_err());
    }
}
