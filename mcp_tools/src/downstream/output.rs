//! A downstream answer as a tool result: what a model can read, never binary as text, never
//! structured content that breaks the tool's `outputSchema`.

use base64::Engine;
use jsonschema::Validator;
use rmcp::model::ContentBlock;
use serde_json::{Value, json};

use super::client::DownstreamResponse;
use crate::{ToolError, ToolOutput};

/// How a tool wants its answers shaped.
#[derive(Default)]
pub struct OutputShape<'a> {
    /// The tool's compiled `outputSchema`: the answer must be JSON that satisfies it, and
    /// becomes `structuredContent`.
    pub output_schema: Option<&'a Validator>,
    /// The schema wraps a non-object answer as `{"result": …}`.
    pub wrap_result: bool,
    /// The argument that asks for less (a page size or filter), named in size hints.
    pub narrowing_argument: Option<&'a str>,
}

pub fn to_tool_output(
    api: &str,
    response: DownstreamResponse,
    shape: &OutputShape<'_>,
) -> Result<ToolOutput, ToolError> {
    let media = media_type(response.content_type.as_deref());
    let hint = match shape.narrowing_argument {
        Some(arg) => format!("use `{arg}` to ask for less"),
        None => "ask for less, e.g. a narrower filter or a smaller page".to_owned(),
    };
    if let Some(validator) = shape.output_schema {
        return structured(api, response, validator, shape.wrap_result, &media, &hint);
    }
    if response.body.is_empty() {
        return Ok(ToolOutput::text(format!(
            "Done: API {api} answered HTTP {} with no content.",
            response.status
        )));
    }
    if is_json(&media)
        || is_text(&media)
        || media.is_empty() && std::str::from_utf8(&response.body).is_ok()
    {
        let (text, cut) = clean_prefix(&response.body, response.truncated);
        let mut text = text.to_owned();
        if cut {
            text.push_str(&format!(
                "\n\n[truncated: the answer is larger than {} bytes; {hint}]",
                response.cap
            ));
        }
        return Ok(ToolOutput::text(text));
    }
    if media.starts_with("image/") && !response.truncated {
        let data = base64::engine::general_purpose::STANDARD.encode(&response.body);
        return Ok(ToolOutput::content(vec![ContentBlock::image(data, media)]));
    }
    let size = if response.truncated {
        format!("more than {}", human_bytes(response.cap))
    } else {
        human_bytes(response.body.len())
    };
    let what = if media.is_empty() {
        "binary data".to_owned()
    } else {
        media
    };
    Ok(ToolOutput::text(format!(
        "API {api} answered with {size} of {what}, which cannot be shown as text."
    )))
}

fn structured(
    api: &str,
    response: DownstreamResponse,
    validator: &Validator,
    wrap_result: bool,
    media: &str,
    hint: &str,
) -> Result<ToolOutput, ToolError> {
    if response.truncated {
        return Err(ToolError::failed(
            format!(
                "The answer of API {api} is too large (over {}); {hint}.",
                human_bytes(response.cap)
            ),
            false,
        ));
    }
    if !media.is_empty() && !is_json(media) {
        return Err(ToolError::failed(
            format!(
                "API {api} answered with {media} where JSON was documented (a gateway or login \
                 page in the way?)."
            ),
            true,
        ));
    }
    let value: Value = serde_json::from_slice(&response.body).map_err(|e| {
        ToolError::failed(
            format!("API {api} answered with invalid JSON ({e})."),
            false,
        )
    })?;
    let value = if wrap_result {
        json!({ "result": value })
    } else {
        value
    };
    if let Some(error) = validator.iter_errors(&value).next() {
        let at = error.instance_path().to_string();
        let at = if at.is_empty() { "/".to_owned() } else { at };
        return Err(ToolError::failed(
            format!(
                "API {api} answered with JSON that does not match its documented schema (at {at}: {}); \
                 the API or its OpenAPI document needs fixing.",
                error.masked_with("the value")
            ),
            false,
        ));
    }
    Ok(ToolOutput::structured_value(value))
}

/// `application/json; charset=utf-8` → `application/json`.
fn media_type(content_type: Option<&str>) -> String {
    content_type
        .and_then(|c| c.split(';').next())
        .map(|c| c.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

fn is_json(media: &str) -> bool {
    media == "application/json" || media.ends_with("+json")
}

fn is_text(media: &str) -> bool {
    media.starts_with("text/")
        || media.ends_with("+xml")
        || matches!(
            media,
            "application/xml" | "application/yaml" | "application/x-yaml" | "application/csv"
        )
}

/// The longest clean prefix: whole UTF-8 characters, and whole lines when the body was cut
/// (unless that would drop more than half of it).
fn clean_prefix(body: &[u8], truncated: bool) -> (&str, bool) {
    let valid = match std::str::from_utf8(body) {
        Ok(s) => s,
        Err(e) => {
            let upto = e.valid_up_to();
            // Safe: `valid_up_to` is a char boundary by definition.
            std::str::from_utf8(&body[..upto]).unwrap_or_default()
        }
    };
    if !truncated {
        return (valid, valid.len() < body.len());
    }
    match valid.rfind('\n') {
        Some(nl) if nl >= valid.len() / 2 => (&valid[..nl], true),
        _ => (valid, true),
    }
}

fn human_bytes(n: usize) -> String {
    if n >= 1024 * 1024 {
        format!("{:.1} MiB", n as f64 / (1024.0 * 1024.0))
    } else if n >= 1024 {
        format!("{:.1} KiB", n as f64 / 1024.0)
    } else {
        format!("{n} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(content_type: &str, body: &[u8], truncated: bool) -> DownstreamResponse {
        DownstreamResponse {
            status: 200,
            content_type: Some(content_type.to_owned()),
            body: body.to_vec(),
            truncated,
            cap: body.len(),
        }
    }

    fn text_of(out: &ToolOutput) -> String {
        serde_json::to_value(&out.content[0]).unwrap_or_default()["text"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    #[test]
    fn truncates_text_at_a_line_with_a_marker_and_hint() {
        let shape = OutputShape {
            narrowing_argument: Some("pageSize"),
            ..OutputShape::default()
        };
        let body = "line one\nline two\nline thr".as_bytes();
        let out = to_tool_output("orders", response("text/plain", body, true), &shape)
            .unwrap_or_default();
        assert_eq!(
            text_of(&out),
            "line one\nline two\n\n[truncated: the answer is larger than 26 bytes; use `pageSize` to ask for less]"
        );
    }

    #[test]
    fn never_splits_a_character() {
        let body = "aé".as_bytes();
        let (text, cut) = clean_prefix(&body[..2], true);
        assert_eq!((text, cut), ("a", true));
    }

    #[test]
    fn images_become_image_content_and_binaries_a_description() {
        let out = to_tool_output(
            "orders",
            response("image/png", b"\x89PNG", false),
            &OutputShape::default(),
        )
        .unwrap_or_default();
        let v = serde_json::to_value(&out.content[0]).unwrap_or_default();
        assert_eq!(v["type"], "image");
        assert_eq!(v["mimeType"], "image/png");
        let out = to_tool_output(
            "orders",
            response("application/pdf", &[0u8; 2048], false),
            &OutputShape::default(),
        )
        .unwrap_or_default();
        assert_eq!(
            text_of(&out),
            "API orders answered with 2.0 KiB of application/pdf, which cannot be shown as text."
        );
    }

    #[test]
    fn structured_answers_must_fit_the_schema() {
        let schema = json!({"type": "object", "properties": {"result": {"type": "array"}}, "required": ["result"]});
        let validator = jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{e}"));
        let shape = OutputShape {
            output_schema: Some(&validator),
            wrap_result: true,
            narrowing_argument: Some("limit"),
        };
        let ok = to_tool_output(
            "orders",
            response("application/json", b"[1,2]", false),
            &shape,
        )
        .unwrap_or_default();
        assert_eq!(ok.structured, Some(json!({"result": [1, 2]})));
        let too_big = to_tool_output(
            "orders",
            response("application/json", b"[1,2", true),
            &shape,
        );
        assert_eq!(
            too_big.err().map(|e| e.to_string()).unwrap_or_default(),
            "The answer of API orders is too large (over 4 bytes); use `limit` to ask for less. Retrying will not help."
        );
        let html = to_tool_output("orders", response("text/html", b"<html>", false), &shape);
        assert!(html.is_err());
        let wrong = to_tool_output("orders", response("application/json", b"{}", false), &shape);
        assert!(
            wrong
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
                .contains("at /result")
        );
    }
}
