//! `save_snippet` / `get_snippet`: named text kept in blob storage, as in the seed template.
//!
//! The storage itself is a binding: under Functions the host reads and writes the blob at
//! `snippets/{snippetname}.json`; self-hosted, the front door does it on a folder. These
//! tools only see bytes.

use rmcp::model::ToolAnnotations;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::tool::Structured;
use crate::{BlobBinding, ToolContext, ToolError, ToolOutput, TypedTool};

pub const SNIPPET_PATH: &str = "snippets/{snippetname}.json";
const SNIPPET_IN: &str = "snippet";
const SNIPPET_OUT: &str = "snippetout";

/// Snippet text may be up to 1 MiB characters: well inside what the host passes along,
/// and more than a model should ever need to store at once.
const MAX_SNIPPET_CHARS: u32 = 1_048_576;

/// The host hands a handler a missing blob as the text `null` (contract §4), so a snippet
/// holding exactly that could never be read back. Refuse it rather than lose it.
const RESERVED_TEXT: &str = "null";

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetSnippetArgs {
    /// The name of the snippet (1-64 letters, digits, '.', '_' or '-'; starts with a letter or digit).
    #[schemars(length(min = 1, max = 64), pattern(r"^[A-Za-z0-9][A-Za-z0-9._-]*$"))]
    pub snippetname: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SaveSnippetArgs {
    /// The name of the snippet (1-64 letters, digits, '.', '_' or '-'; starts with a letter or digit).
    #[schemars(length(min = 1, max = 64), pattern(r"^[A-Za-z0-9][A-Za-z0-9._-]*$"))]
    pub snippetname: String,
    /// The content of the snippet.
    #[schemars(length(min = 1, max = MAX_SNIPPET_CHARS))]
    pub snippet: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SavedSnippet {
    /// The name the snippet was saved under.
    pub snippetname: String,
    /// Its size in bytes (UTF-8).
    pub bytes: usize,
}

pub struct GetSnippet;

impl TypedTool for GetSnippet {
    type Input = GetSnippetArgs;
    type Output = ToolOutput;
    const NAME: &'static str = "get_snippet";
    const DESCRIPTION: &'static str = "Retrieve a snippet by name.";

    fn annotations() -> ToolAnnotations {
        ToolAnnotations::with_title("Get snippet")
            .read_only(true)
            .idempotent(true)
            .open_world(false)
    }

    fn bindings() -> Vec<BlobBinding> {
        vec![BlobBinding::input(SNIPPET_IN, SNIPPET_PATH)]
    }

    async fn call(&self, args: GetSnippetArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let Some(bytes) = ctx.input_blob(SNIPPET_IN) else {
            return Err(ToolError::NotFound(format!(
                "No snippet named '{}' exists. Save it first with save_snippet.",
                args.snippetname
            )));
        };
        match std::str::from_utf8(bytes) {
            Ok(text) => Ok(ToolOutput::text(text)),
            Err(_) => Err(ToolError::failed(
                format!(
                    "Snippet '{}' holds {} bytes that are not UTF-8 text.",
                    args.snippetname,
                    bytes.len()
                ),
                false,
            )),
        }
    }
}

pub struct SaveSnippet;

impl TypedTool for SaveSnippet {
    type Input = SaveSnippetArgs;
    type Output = Structured<SavedSnippet>;
    const NAME: &'static str = "save_snippet";
    const DESCRIPTION: &'static str = "Save a snippet with a name.";

    fn annotations() -> ToolAnnotations {
        // Saving under an existing name replaces it: destructive, but repeatable.
        ToolAnnotations::with_title("Save snippet")
            .read_only(false)
            .destructive(true)
            .idempotent(true)
            .open_world(false)
    }

    fn bindings() -> Vec<BlobBinding> {
        vec![BlobBinding::output(SNIPPET_OUT, SNIPPET_PATH)]
    }

    async fn call(
        &self,
        args: SaveSnippetArgs,
        _: ToolContext,
    ) -> Result<Structured<SavedSnippet>, ToolError> {
        if args.snippet == RESERVED_TEXT {
            return Err(ToolError::invalid_argument(
                "snippet",
                "the text `null` cannot be stored: the Functions host reports a missing snippet that way",
            ));
        }
        let bytes = args.snippet.into_bytes();
        let saved = SavedSnippet {
            snippetname: args.snippetname,
            bytes: bytes.len(),
        };
        Ok(Structured::new(saved).with_blob(SNIPPET_OUT, bytes))
    }
}
