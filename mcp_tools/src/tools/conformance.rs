//! The fixture tools the MCP conformance suite's server scenarios call
//! (`@modelcontextprotocol/conformance`, `tools-call-*` and `json-schema-2020-12`).
//!
//! They exist only to let the suite exercise the self-hosted front door: `handler serve
//! --conformance-tools` registers them on top of the normal registry. They are never part of
//! [`crate::build_registry`], so they are not served by default and never become function
//! folders. Names and payloads are the ones the suite's scenario descriptions ask for.
//!
//! Not here, on purpose: the fixtures for logging, sampling and elicitation. The server offers
//! none of those capabilities (stateless, and the Functions host relays none of them), so the
//! suite's scenarios for them are expected failures, not something to fake.

use std::borrow::Cow;
use std::sync::Arc;

use base64::Engine;
use rmcp::model::{ContentBlock, ResourceContents};
use serde_json::json;

use crate::tool::{NoArguments, ToolFuture};
use crate::{
    JsonObject, Registry, RegistryError, Tool, ToolAnnotations, ToolContext, ToolError, ToolOutput,
    ToolSpec, TypedTool,
};

/// Registers every fixture tool. Only `handler serve --conformance-tools` calls this.
pub fn register_conformance_tools(registry: &mut Registry) -> Result<(), RegistryError> {
    registry.register_typed(SimpleText)?;
    registry.register_typed(ImageContent)?;
    registry.register_typed(AudioContent)?;
    registry.register_typed(EmbeddedResource)?;
    registry.register_typed(MultipleContentTypes)?;
    registry.register_typed(ErrorHandling)?;
    registry.register_typed(WithProgress)?;
    registry.register(JsonSchema202012::new())?;
    Ok(())
}

/// A 1×1 red PNG, the "minimal test image" the suite suggests.
const RED_PIXEL_PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";

fn image() -> ContentBlock {
    ContentBlock::image(RED_PIXEL_PNG, "image/png")
}

/// A valid WAV file: 8 kHz, 16-bit mono, 10 ms of silence. Built rather than pasted so that
/// the header is evidently right.
fn silent_wav() -> Vec<u8> {
    const RATE: u32 = 8000;
    const SAMPLES: u32 = RATE / 100;
    let data_len = SAMPLES * 2;
    let mut wav = Vec::with_capacity(44 + data_len as usize);
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data_len).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes()); // fmt chunk size
    wav.extend_from_slice(&1u16.to_le_bytes()); // PCM
    wav.extend_from_slice(&1u16.to_le_bytes()); // mono
    wav.extend_from_slice(&RATE.to_le_bytes());
    wav.extend_from_slice(&(RATE * 2).to_le_bytes()); // byte rate
    wav.extend_from_slice(&2u16.to_le_bytes()); // block align
    wav.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&data_len.to_le_bytes());
    wav.resize(44 + data_len as usize, 0);
    wav
}

fn fixture_annotations(title: &str) -> ToolAnnotations {
    ToolAnnotations::with_title(title)
        .read_only(true)
        .idempotent(true)
        .open_world(false)
}

pub struct SimpleText;

impl TypedTool for SimpleText {
    type Input = NoArguments;
    type Output = ToolOutput;
    const NAME: &'static str = "test_simple_text";
    const DESCRIPTION: &'static str = "Conformance fixture: returns one text block.";

    fn annotations() -> ToolAnnotations {
        fixture_annotations("Simple text")
    }

    async fn call(&self, _: NoArguments, _: ToolContext) -> Result<ToolOutput, ToolError> {
        Ok(ToolOutput::text(
            "This is a simple text response for testing.",
        ))
    }
}

pub struct ImageContent;

impl TypedTool for ImageContent {
    type Input = NoArguments;
    type Output = ToolOutput;
    const NAME: &'static str = "test_image_content";
    const DESCRIPTION: &'static str = "Conformance fixture: returns a 1x1 PNG image block.";

    fn annotations() -> ToolAnnotations {
        fixture_annotations("Image content")
    }

    async fn call(&self, _: NoArguments, _: ToolContext) -> Result<ToolOutput, ToolError> {
        Ok(ToolOutput::content(vec![image()]))
    }
}

pub struct AudioContent;

impl TypedTool for AudioContent {
    type Input = NoArguments;
    type Output = ToolOutput;
    const NAME: &'static str = "test_audio_content";
    const DESCRIPTION: &'static str = "Conformance fixture: returns a short WAV audio block.";

    fn annotations() -> ToolAnnotations {
        fixture_annotations("Audio content")
    }

    async fn call(&self, _: NoArguments, _: ToolContext) -> Result<ToolOutput, ToolError> {
        let data = base64::engine::general_purpose::STANDARD.encode(silent_wav());
        Ok(ToolOutput::content(vec![ContentBlock::audio(
            data,
            "audio/wav",
        )]))
    }
}

pub struct EmbeddedResource;

impl TypedTool for EmbeddedResource {
    type Input = NoArguments;
    type Output = ToolOutput;
    const NAME: &'static str = "test_embedded_resource";
    const DESCRIPTION: &'static str = "Conformance fixture: returns an embedded text resource.";

    fn annotations() -> ToolAnnotations {
        fixture_annotations("Embedded resource")
    }

    async fn call(&self, _: NoArguments, _: ToolContext) -> Result<ToolOutput, ToolError> {
        Ok(ToolOutput::content(vec![ContentBlock::resource(
            ResourceContents::text(
                "This is an embedded resource content.",
                "test://embedded-resource",
            ),
        )]))
    }
}

pub struct MultipleContentTypes;

impl TypedTool for MultipleContentTypes {
    type Input = NoArguments;
    type Output = ToolOutput;
    const NAME: &'static str = "test_multiple_content_types";
    const DESCRIPTION: &'static str =
        "Conformance fixture: returns text, image and embedded resource blocks.";

    fn annotations() -> ToolAnnotations {
        fixture_annotations("Multiple content types")
    }

    async fn call(&self, _: NoArguments, _: ToolContext) -> Result<ToolOutput, ToolError> {
        let resource = ResourceContents::text(
            json!({"test": "data", "value": 123}).to_string(),
            "test://mixed-content-resource",
        )
        .with_mime_type("application/json");
        Ok(ToolOutput::content(vec![
            ContentBlock::text("Multiple content types test:"),
            image(),
            ContentBlock::resource(resource),
        ]))
    }
}

pub struct ErrorHandling;

impl TypedTool for ErrorHandling {
    type Input = NoArguments;
    type Output = ToolOutput;
    const NAME: &'static str = "test_error_handling";
    const DESCRIPTION: &'static str = "Conformance fixture: always fails with an isError result.";

    fn annotations() -> ToolAnnotations {
        fixture_annotations("Error handling")
    }

    async fn call(&self, _: NoArguments, _: ToolContext) -> Result<ToolOutput, ToolError> {
        // Through the one error mapping every tool uses, so the suite checks that mapping.
        Err(ToolError::failed(
            "This tool intentionally returns an error for testing.",
            false,
        ))
    }
}

pub struct WithProgress;

impl TypedTool for WithProgress {
    type Input = NoArguments;
    type Output = ToolOutput;
    const NAME: &'static str = "test_tool_with_progress";
    const DESCRIPTION: &'static str =
        "Conformance fixture: reports progress 0, 50 and 100 of 100, about 50 ms apart.";

    fn annotations() -> ToolAnnotations {
        fixture_annotations("Progress")
    }

    async fn call(&self, _: NoArguments, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        for (i, step) in [0.0, 50.0, 100.0].into_iter().enumerate() {
            if i > 0 {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            ctx.report_progress(step, Some(100.0), None);
        }
        Ok(ToolOutput::text("Progress reported: 0, 50, 100 of 100."))
    }
}

/// `json_schema_2020_12_tool`: an input schema using 2020-12 keywords (`$schema`, `$defs`
/// with `$anchor`, `allOf`/`anyOf`, `if`/`then`/`else`) that `tools/list` must pass through
/// unchanged. Written as a raw [`Tool`], because the point is a schema no derive produces.
pub struct JsonSchema202012 {
    spec: ToolSpec,
}

impl JsonSchema202012 {
    pub const NAME: &'static str = "json_schema_2020_12_tool";

    pub fn new() -> Self {
        let schema = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "$defs": {
                "address": {
                    "$anchor": "addressDef",
                    "type": "object",
                    "properties": {
                        "street": {"type": "string"},
                        "city": {"type": "string"}
                    }
                }
            },
            "properties": {
                "name": {"type": "string"},
                "address": {"$ref": "#/$defs/address"},
                "contactMethod": {"type": "string", "enum": ["phone", "email"]},
                "phone": {"type": "string"},
                "email": {"type": "string"}
            },
            "allOf": [{"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}],
            "if": {"properties": {"contactMethod": {"const": "phone"}}, "required": ["contactMethod"]},
            "then": {"required": ["phone"]},
            "else": {"required": ["email"]},
            "additionalProperties": false
        });
        let input_schema = match schema {
            serde_json::Value::Object(map) => map,
            _ => JsonObject::new(),
        };
        Self {
            spec: ToolSpec {
                name: Cow::Borrowed(Self::NAME),
                title: None,
                description: Cow::Borrowed(
                    "Conformance fixture: an input schema with JSON Schema 2020-12 features.",
                ),
                input_schema: Arc::new(input_schema),
                output_schema: None,
                annotations: fixture_annotations("JSON Schema 2020-12"),
                bindings: Vec::new(),
            },
        }
    }
}

impl Default for JsonSchema202012 {
    fn default() -> Self {
        Self::new()
    }
}

impl Tool for JsonSchema202012 {
    fn spec(&self) -> &ToolSpec {
        &self.spec
    }

    fn call(&self, _arguments: JsonObject, _ctx: ToolContext) -> ToolFuture<'_> {
        Box::pin(async { Ok(ToolOutput::text("ok")) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry() -> Registry {
        let mut registry = Registry::new();
        register_conformance_tools(&mut registry).expect("fixtures register");
        registry
    }

    #[test]
    fn fixtures_are_not_in_the_default_registry() {
        let builtin = crate::tools::builtin().expect("builtin registry");
        for spec in registry().specs() {
            assert!(builtin.get(&spec.name).is_none(), "{}", spec.name);
        }
    }

    #[test]
    fn the_wav_is_a_well_formed_riff_file() {
        let wav = silent_wav();
        assert_eq!(&wav[0..4], b"RIFF");
        assert_eq!(
            u32::from_le_bytes([wav[4], wav[5], wav[6], wav[7]]) as usize,
            wav.len() - 8
        );
        assert_eq!(&wav[36..40], b"data");
    }

    #[tokio::test]
    async fn the_schema_is_listed_unchanged_and_enforced() {
        let registry = registry();
        let tool = registry.get(JsonSchema202012::NAME).expect("listed");
        let listed = tool.spec().to_mcp_tool();
        assert_eq!(
            listed.input_schema.as_ref(),
            JsonSchema202012::new().spec.input_schema.as_ref()
        );
        // Neither phone nor email: the allOf/anyOf and if/else branches refuse it.
        let args = json!({"name": "x", "contactMethod": "phone"});
        let outcome = registry
            .call(tool, Some(args), ToolContext::default())
            .await;
        assert_eq!(outcome.result.is_error, Some(true));
        let args = json!({"name": "x", "contactMethod": "phone", "phone": "1"});
        let outcome = registry
            .call(tool, Some(args), ToolContext::default())
            .await;
        assert_eq!(outcome.result.is_error, Some(false));
    }

    #[tokio::test]
    async fn error_handling_is_an_is_error_result_with_text() {
        let registry = registry();
        let tool = registry.get(ErrorHandling::NAME).expect("listed");
        let outcome = registry.call(tool, None, ToolContext::default()).await;
        assert_eq!(outcome.result.is_error, Some(true));
        let text = outcome.result.content[0].as_text().map(|t| t.text.clone());
        assert!(text.is_some_and(|t| t.starts_with("This tool intentionally returns an error")));
    }
}
