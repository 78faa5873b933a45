//! How a downstream call failed, in words a model can act on.

use std::time::Duration;

use crate::ToolError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DownstreamErrorKind {
    /// The API has no `DOWNSTREAM__<API>__BASE_URL`.
    NotConfigured,
    /// The call's deadline passed.
    Timeout,
    /// No connection could be made, or it broke before an answer.
    Connection,
    /// The API answered with a non-success status.
    Status,
    /// The answer is larger than the API's `MAX_RESPONSE_BYTES`.
    TooLarge,
    /// The API's concurrency limit was reached and no slot freed up in time.
    Busy,
    /// No credential could be obtained for the API.
    Credential,
    /// The answer could not be understood (bad JSON, wrong type, off-schema).
    InvalidResponse,
    /// The request could not be built (a bug in a spec or tool, not the caller's fault).
    Request,
}

impl DownstreamErrorKind {
    /// A stable name for telemetry (`error.type` on the dependency).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotConfigured => "not_configured",
            Self::Timeout => "timeout",
            Self::Connection => "connection",
            Self::Status => "status",
            Self::TooLarge => "too_large",
            Self::Busy => "busy",
            Self::Credential => "credential",
            Self::InvalidResponse => "invalid_response",
            Self::Request => "request",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DownstreamError {
    pub kind: DownstreamErrorKind,
    pub message: String,
    pub retryable: bool,
    /// The HTTP status, for [`DownstreamErrorKind::Status`].
    pub status: Option<u16>,
}

impl DownstreamError {
    pub fn new(kind: DownstreamErrorKind, message: impl Into<String>, retryable: bool) -> Self {
        Self {
            kind,
            message: message.into(),
            retryable,
            status: None,
        }
    }

    pub fn not_configured(api: &str, key: &str) -> Self {
        Self::new(
            DownstreamErrorKind::NotConfigured,
            format!(
                "API {api} is not configured: set {}.",
                super::settings::base_url_setting(key)
            ),
            false,
        )
    }

    pub fn timeout(api: &str, budget: Duration) -> Self {
        Self::new(
            DownstreamErrorKind::Timeout,
            format!(
                "API {api} did not answer within {:.1} s.",
                budget.as_secs_f32()
            ),
            true,
        )
    }
}

impl From<DownstreamError> for ToolError {
    fn from(e: DownstreamError) -> Self {
        ToolError::failed(e.message, e.retryable)
    }
}
