//! Tool failures, and the one place they become the `isError` result the model reads.

use std::time::Duration;

use rmcp::model::{CallToolResult, ContentBlock};

/// Everything that can go wrong once a call has reached a tool.
///
/// Messages are written for the model that called the tool: say what was wrong and whether
/// trying again may help. They never carry secrets or raw downstream bodies.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ToolError {
    /// One argument is wrong; `argument` is its name (or a JSON pointer below it).
    #[error("Invalid argument `{argument}`: {message}")]
    InvalidArgument { argument: String, message: String },

    /// The arguments as a whole are wrong (not an object, several problems, …).
    #[error("Invalid arguments: {0}")]
    InvalidArguments(String),

    /// What the caller asked for does not exist.
    #[error("{0}")]
    NotFound(String),

    /// The call ran out of time.
    #[error("The tool did not finish within {} s; it may succeed if retried later.", .0.as_secs_f32().ceil())]
    DeadlineExceeded(Duration),

    /// The tool ran and failed in a way the model should read.
    #[error("{message}{}", retry_hint(*.retryable))]
    Failed { message: String, retryable: bool },

    /// A bug or an impossible state on our side. The detail goes to the log, not the model.
    #[error("The tool failed with an internal error; retrying will not help.")]
    Internal(String),
}

fn retry_hint(retryable: bool) -> &'static str {
    if retryable {
        " Retrying may help."
    } else {
        " Retrying will not help."
    }
}

impl ToolError {
    pub fn invalid_argument(argument: impl Into<String>, message: impl Into<String>) -> Self {
        Self::InvalidArgument {
            argument: argument.into(),
            message: message.into(),
        }
    }

    pub fn failed(message: impl Into<String>, retryable: bool) -> Self {
        Self::Failed {
            message: message.into(),
            retryable,
        }
    }

    /// True for errors that come from what the caller sent rather than from the tool.
    pub fn is_invalid_arguments(&self) -> bool {
        matches!(
            self,
            Self::InvalidArgument { .. } | Self::InvalidArguments(_)
        )
    }

    /// The result the model reads: `isError: true` with one text block.
    pub fn to_call_tool_result(&self) -> CallToolResult {
        CallToolResult::error(vec![ContentBlock::text(self.to_string())])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_argument_names_the_argument() {
        let e = ToolError::invalid_argument("snippetname", "must not be empty");
        assert_eq!(
            e.to_string(),
            "Invalid argument `snippetname`: must not be empty"
        );
    }

    #[test]
    fn becomes_an_is_error_result_with_text() {
        let r = ToolError::failed("Upstream said no.", false).to_call_tool_result();
        assert_eq!(r.is_error, Some(true));
        let v = serde_json::to_value(&r).unwrap_or_default();
        assert_eq!(
            v["content"][0]["text"],
            "Upstream said no. Retrying will not help."
        );
    }

    #[test]
    fn internal_detail_stays_out_of_the_message() {
        let e = ToolError::Internal("db password mismatch at line 3".into());
        assert!(!e.to_string().contains("password"));
    }

    #[test]
    fn deadline_says_retry_may_help() {
        let e = ToolError::DeadlineExceeded(Duration::from_millis(2500));
        assert_eq!(
            e.to_string(),
            "The tool did not finish within 3 s; it may succeed if retried later."
        );
    }
}
