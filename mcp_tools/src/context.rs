//! What a tool sees of its call.
//!
//! Deliberately not the raw invocation: no inbound headers (they hold the caller's
//! `x-functions-key` and `Authorization`), no transport details.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The default time a tool call may take. The Azure front end drops idle HTTP connections
/// after about 230 s; the host needs some of that budget for itself.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
pub struct ToolContext {
    deadline: Instant,
    input_blobs: HashMap<&'static str, Vec<u8>>,
    invocation_id: Option<String>,
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
