//! What a tool sees of its call.
//!
//! Deliberately not the raw invocation: no inbound headers (they hold the caller's
//! `x-functions-key` and `Authorization`), no transport details.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The default time a tool call may take. The Azure front end drops idle HTTP connections
/// after about 230 s; the host needs some of that budget for itself.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Where a tool's progress goes. The self-hosted front turns reports into MCP
/// `notifications/progress` when the client asked for them; under the Functions host there is
/// no such channel, and reports go nowhere.
pub trait ProgressSink: Send + Sync {
    fn report(&self, progress: f64, total: Option<f64>, message: Option<String>);
}

#[derive(Clone)]
pub struct ToolContext {
    deadline: Instant,
    input_blobs: HashMap<&'static str, Vec<u8>>,
    invocation_id: Option<String>,
    traceparent: Option<String>,
    progress: Option<Arc<dyn ProgressSink>>,
}

impl std::fmt::Debug for ToolContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToolContext")
            .field("deadline", &self.deadline)
            .field("input_blobs", &self.input_blobs.keys().collect::<Vec<_>>())
            .field("invocation_id", &self.invocation_id)
            .field("traceparent", &self.traceparent)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

impl Default for ToolContext {
    fn default() -> Self {
        Self::new(DEFAULT_CALL_TIMEOUT)
    }
}

impl ToolContext {
    pub fn new(timeout: Duration) -> Self {
        Self {
            deadline: Instant::now() + timeout,
            input_blobs: HashMap::new(),
            invocation_id: None,
            traceparent: None,
            progress: None,
        }
    }

    /// Routes [`ToolContext::report_progress`] to a front door's channel.
    pub fn with_progress(mut self, sink: Arc<dyn ProgressSink>) -> Self {
        self.progress = Some(sink);
        self
    }

    /// Tells the client how far a long call has got (`progress` should grow with each
    /// report). A no-op when the client did not ask for progress or the front door cannot
    /// deliver it, so tools may report unconditionally.
    pub fn report_progress(&self, progress: f64, total: Option<f64>, message: Option<&str>) {
        if let Some(sink) = &self.progress {
            sink.report(progress, total, message.map(str::to_owned));
        }
    }

    /// Supplies the bytes of an input binding; an absent blob is simply not supplied.
    pub fn with_input_blob(mut self, binding: &'static str, bytes: Vec<u8>) -> Self {
        self.input_blobs.insert(binding, bytes);
        self
    }

    pub fn with_invocation_id(mut self, id: impl Into<String>) -> Self {
        self.invocation_id = Some(id.into());
        self
    }

    /// The caller's W3C trace context, sent on to downstream APIs. A value that is not a
    /// well-formed `traceparent` is dropped rather than forwarded.
    pub fn with_traceparent(mut self, traceparent: impl Into<String>) -> Self {
        let traceparent = traceparent.into();
        self.traceparent = valid_traceparent(&traceparent).then_some(traceparent);
        self
    }

    pub fn traceparent(&self) -> Option<&str> {
        self.traceparent.as_deref()
    }

    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    pub fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// The input blob's bytes, or `None` when the blob does not exist.
    pub fn input_blob(&self, binding: &str) -> Option<&[u8]> {
        self.input_blobs.get(binding).map(Vec::as_slice)
    }

    pub fn invocation_id(&self) -> Option<&str> {
        self.invocation_id.as_deref()
    }
}

/// `version-traceid-parentid-flags`, lower-case hex, e.g.
/// `00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01`.
fn valid_traceparent(value: &str) -> bool {
    let parts: Vec<&str> = value.split('-').collect();
    let hex = |s: &str, len: usize| {
        s.len() == len
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    parts.len() >= 4
        && hex(parts[0], 2)
        && parts[0] != "ff"
        && hex(parts[1], 32)
        && parts[1].bytes().any(|b| b != b'0')
        && hex(parts[2], 16)
        && parts[2].bytes().any(|b| b != b'0')
        && hex(parts[3], 2)
        && (parts[0] != "00" || parts.len() == 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_well_formed_traceparents() {
        let good = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert_eq!(
            ToolContext::default().with_traceparent(good).traceparent(),
            Some(good)
        );
        for bad in [
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\nx: y",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "garbage",
        ] {
            assert_eq!(
                ToolContext::default().with_traceparent(bad).traceparent(),
                None
            );
        }
    }
}
