//! Abstract blob bindings.
//!
//! A tool may declare that it reads one blob before it runs and/or writes one after. The
//! path is a template over the tool's arguments, e.g. `snippets/{snippetname}.json`. The
//! Functions front turns this into function.json bindings that the host resolves
//! (`{mcptoolargs.snippetname}`); the self-hosted front resolves it itself with
//! [`BlobBinding::resolve`]. The tool only sees "the input blob's bytes, or none" and returns
//! "bytes to write".

use serde_json::Value;

use crate::JsonObject;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindingDirection {
    In,
    Out,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobBinding {
    /// Binding name: the key under which the bytes travel (function.json `name`).
    pub name: &'static str,
    pub direction: BindingDirection,
    /// `container/path` with `{argument}` placeholders.
    pub path: &'static str,
}

/// Why a path template could not be resolved against a call's arguments.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("argument `{0}` is needed to locate the blob but is missing")]
    Missing(String),
    #[error("argument `{0}` must be a string or number to locate the blob")]
    NotScalar(String),
}

impl BlobBinding {
    pub const fn input(name: &'static str, path: &'static str) -> Self {
        Self {
            name,
            direction: BindingDirection::In,
            path,
        }
    }

    pub const fn output(name: &'static str, path: &'static str) -> Self {
        Self {
            name,
            direction: BindingDirection::Out,
            path,
        }
    }

    /// The argument names the path template refers to, in order.
    pub fn template_arguments(&self) -> Vec<&'static str> {
        placeholders(self.path).collect()
    }

    /// The template with every `{arg}` rewritten by `f` (function.json uses
    /// `{mcptoolargs.arg}`).
    pub fn map_placeholders(&self, mut f: impl FnMut(&str) -> String) -> String {
        let mut out = String::with_capacity(self.path.len() + 16);
        let mut rest = self.path;
        while let Some(open) = rest.find('{') {
            let Some(close) = rest[open..].find('}') else {
                break;
            };
            out.push_str(&rest[..open]);
            out.push_str(&f(&rest[open + 1..open + close]));
            rest = &rest[open + close + 1..];
        }
        out.push_str(rest);
        out
    }

    /// The concrete path for one call. Callers must only resolve against validated
    /// arguments: the schema is what keeps `../` out of a path.
    pub fn resolve(&self, arguments: &JsonObject) -> Result<String, TemplateError> {
        let mut failure = None;
        let path = self.map_placeholders(|arg| match arguments.get(arg) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            Some(_) => {
                failure.get_or_insert(TemplateError::NotScalar(arg.to_owned()));
                String::new()
            }
            None => {
                failure.get_or_insert(TemplateError::Missing(arg.to_owned()));
                String::new()
            }
        });
        match failure {
            Some(e) => Err(e),
            None => Ok(path),
        }
    }
}

fn placeholders(template: &'static str) -> impl Iterator<Item = &'static str> {
    template
        .split('{')
        .skip(1)
        .filter_map(|s| s.split_once('}').map(|(name, _)| name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SNIPPET: BlobBinding = BlobBinding::input("snippet", "snippets/{snippetname}.json");

    #[test]
    fn finds_template_arguments() {
        assert_eq!(SNIPPET.template_arguments(), vec!["snippetname"]);
    }

    #[test]
    fn rewrites_placeholders_for_function_json() {
        let path = SNIPPET.map_placeholders(|a| format!("{{mcptoolargs.{a}}}"));
        assert_eq!(path, "snippets/{mcptoolargs.snippetname}.json");
    }

    #[test]
    fn resolves_against_arguments() {
        let args = json!({"snippetname": "abc"});
        let args = args.as_object().cloned().unwrap_or_default();
        assert_eq!(SNIPPET.resolve(&args).as_deref(), Ok("snippets/abc.json"));
        assert_eq!(
            SNIPPET.resolve(&JsonObject::new()),
            Err(TemplateError::Missing("snippetname".into()))
        );
    }
}
