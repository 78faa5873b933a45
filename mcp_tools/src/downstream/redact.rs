//! Short, safe excerpts of downstream bodies for error messages: anything that looks like a
//! credential is removed before a model (or a log) sees it.

/// Field names containing one of these have their values hidden.
const SENSITIVE_PARTS: &[&str] = &[
    "token",
    "secret",
    "password",
    "passwd",
    "authorization",
    "apikey",
    "api_key",
    "api-key",
    "credential",
    "cookie",
    "signature",
];

/// Field names that hide their values only when they are the whole name.
const SENSITIVE_WORDS: &[&str] = &["key", "bearer", "basic", "sig"];

const REDACTED: &str = "<redacted>";

/// At most `max` characters of `text` with known secrets, bearer tokens, JWTs, long opaque
/// strings and the values of sensitive-looking fields replaced by `<redacted>`.
pub fn excerpt(text: &str, known_secrets: &[&str], max: usize) -> String {
    let mut text = text.to_owned();
    for secret in known_secrets.iter().filter(|s| s.len() >= 4) {
        text = text.replace(secret, REDACTED);
    }
    let scrubbed = scrub(&text);
    let collapsed: String = scrubbed.split_whitespace().collect::<Vec<_>>().join(" ");
    crate::validate::truncate(&collapsed, max)
}

fn scrub(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut redact_next_value = false;
    while !rest.is_empty() {
        let word_len = rest
            .char_indices()
            .find(|(_, c)| !is_token_char(*c))
            .map_or(rest.len(), |(i, _)| i);
        if word_len == 0 {
            let c = rest.chars().next().unwrap_or(' ');
            out.push(c);
            rest = &rest[c.len_utf8()..];
            continue;
        }
        let word = &rest[..word_len];
        rest = &rest[word_len..];
        let lower = word.to_ascii_lowercase();
        let is_placeholder = word == "redacted";
        if (redact_next_value && !is_placeholder) || looks_secret(word) {
            out.push_str(REDACTED);
        } else {
            out.push_str(word);
        }
        // `"access_token": "…"`, `password=…`, `Bearer …`: the next word is the value.
        redact_next_value = !is_placeholder
            && (SENSITIVE_WORDS.contains(&lower.as_str())
                || SENSITIVE_PARTS.iter().any(|part| lower.contains(part)));
    }
    out
}

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '+' | '/' | '=' | '~')
}

/// JWTs, and long strings with both letters and digits and few vowels-only runs: what keys
/// and tokens look like, and what ordinary prose rarely does.
fn looks_secret(word: &str) -> bool {
    if word.starts_with("eyJ") && word.matches('.').count() >= 2 {
        return true;
    }
    if word.len() < 24 {
        return false;
    }
    let digits = word.bytes().filter(u8::is_ascii_digit).count();
    let letters = word.bytes().filter(u8::is_ascii_alphabetic).count();
    let is_path_or_url = word.contains("//") || word.matches('/').count() > 2;
    digits >= 2 && letters >= 4 && !is_path_or_url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_tokens_and_sensitive_fields() {
        let body = r#"{"error":"invalid_client","access_token":"abc","client_secret": "s3cr3t!",
            "detail":"Bearer eyJhbGciOi.eyJzdWIi.sig and key Zx9aQ2bT7mK4pL8vR3wS6yU1nH5jC0dE"}"#;
        let e = excerpt(body, &["s3cr3t!"], 500);
        for leaked in ["abc", "s3cr3t", "eyJ", "Zx9aQ2bT7mK4pL8vR3wS6yU1nH5jC0dE"] {
            assert!(!e.contains(leaked), "{leaked} in {e}");
        }
        assert!(e.contains("invalid_client"), "{e}");
    }

    #[test]
    fn keeps_ordinary_messages_and_truncates() {
        let e = excerpt("Order 12345 was not found.\n\n  Try another id.", &[], 500);
        assert_eq!(e, "Order 12345 was not found. Try another id.");
        assert_eq!(excerpt(&"a ".repeat(400), &[], 10).chars().count(), 11);
    }
}
