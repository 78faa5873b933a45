//! A value that must never reach a log, an error message or a tool result.

use std::fmt;

/// A secret string: API keys, client secrets, tokens, the identity endpoint's header.
/// `Debug` and `Display` print `<redacted>`; only [`Secret::expose`] gives the value, at the
/// one place it is put on the wire.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Constant-time comparison, so response timing does not reveal how much of a guessed
    /// key was right (the self-hosted server's key check).
    pub fn matches(&self, offered: &str) -> bool {
        let (a, b) = (self.0.as_bytes(), offered.as_bytes());
        let mut diff = a.len() ^ b.len();
        for i in 0..a.len().max(b.len()) {
            let x = a.get(i).copied().unwrap_or(0);
            let y = b.get(i).copied().unwrap_or(0xff);
            diff |= usize::from(x ^ y);
        }
        diff == 0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints() {
        let s = Secret::new("hunter2");
        assert_eq!(
            format!("{s} {s:?} {:?}", Some(&s)),
            "<redacted> <redacted> Some(<redacted>)"
        );
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn compares_exactly() {
        let s = Secret::new("hunter2");
        assert!(s.matches("hunter2"));
        for wrong in ["hunter", "hunter22", "", "Hunter2", "hunter2\0"] {
            assert!(!s.matches(wrong), "{wrong:?}");
        }
    }
}
