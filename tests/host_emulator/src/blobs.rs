//! Blob bindings emulated on a local folder: path templates (`{mcptoolargs.x}`), the
//! mapping of blob names to files, and the host's base64 heuristic for outputs (§5).
//!
//! Blob names are taken literally, as Azure does: a `..` segment is a name, not a way up,
//! so segments that the file system would interpret (`.`, `..`, empty) and the `%` and `\`
//! characters are percent-encoded. The mapping is injective and never leaves the folder.

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde_json::{Map, Value};

/// What `{…}` expressions in a binding path can refer to.
pub struct BindingData<'a> {
    /// `mcptoolargs`: the arguments already stringified the .NET way.
    pub mcptoolargs: &'a Map<String, Value>,
    pub sys: &'a Map<String, Value>,
}

/// Resolves `{mcptoolargs.name}` and `{sys.Name}`; anything else, or an argument the client
/// did not send, fails the binding (the host then fails the invocation).
pub fn resolve_path(template: &str, data: &BindingData<'_>) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .ok_or_else(|| format!("unclosed '{{' in blob path '{template}'"))?;
        let expr = after[..close].trim();
        out.push_str(&lookup(expr, data).ok_or_else(|| {
            format!("binding expression '{{{expr}}}' in '{template}' cannot be resolved")
        })?);
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn lookup(expr: &str, data: &BindingData<'_>) -> Option<String> {
    let (head, key) = expr.split_once('.')?;
    let map = if head.eq_ignore_ascii_case("mcptoolargs") {
        data.mcptoolargs
    } else if head.eq_ignore_ascii_case("sys") {
        data.sys
    } else {
        return None;
    };
    let v = map.get(key).or_else(|| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })?;
    v.as_str().map(str::to_owned)
}

/// `container/name` → `root/container/<name segments, escaped>`.
pub fn blob_file(root: &Path, blob_path: &str) -> Result<PathBuf, String> {
    let (container, name) = blob_path
        .split_once('/')
        .ok_or_else(|| format!("blob path '{blob_path}' has no container"))?;
    let container_ok = !container.is_empty()
        && container
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !container_ok {
        return Err(format!("invalid container name '{container}'"));
    }
    if name.is_empty() {
        return Err(format!("blob path '{blob_path}' has no blob name"));
    }
    let mut file = root.join(container);
    for seg in name.split('/') {
        file.push(escape_segment(seg));
    }
    Ok(file)
}

fn escape_segment(seg: &str) -> String {
    if seg.is_empty() {
        return "%".into();
    }
    if seg.bytes().all(|b| b == b'.') {
        return "%2E".repeat(seg.len());
    }
    let mut out = String::with_capacity(seg.len());
    for c in seg.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\\' => out.push_str("%5C"),
            '\0' => out.push_str("%00"),
            c => out.push(c),
        }
    }
    out
}

pub fn read_blob(root: &Path, blob_path: &str) -> Result<Option<Vec<u8>>, String> {
    let file = blob_file(root, blob_path)?;
    match std::fs::read(&file) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        // A directory (a "virtual folder" prefix) is not a blob either.
        Err(_) if file.is_dir() => Ok(None),
        Err(e) => Err(format!("reading {}: {e}", file.display())),
    }
}

pub fn write_blob(root: &Path, blob_path: &str, bytes: &[u8]) -> Result<(), String> {
    let file = blob_file(root, blob_path)?;
    if let Some(parent) = file.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    std::fs::write(&file, bytes).map_err(|e| format!("writing {}: {e}", file.display()))
}

/// .NET `Convert.FromBase64String`: whitespace ignored, padding required, trailing bits
/// not checked.
pub fn dotnet_base64_decode(s: &str) -> Option<Vec<u8>> {
    let compact: String = s
        .chars()
        .filter(|c| !matches!(c, ' ' | '\t' | '\r' | '\n'))
        .collect();
    let engine = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
    );
    engine.decode(compact).ok()
}

/// The bytes the host writes for an `Outputs.<name>` value, or `None` to write nothing.
pub fn output_bytes(value: &Value, binary: bool) -> Option<Vec<u8>> {
    match value {
        Value::Null => None,
        Value::String(s) if binary => Some(s.clone().into_bytes()),
        Value::String(s) => Some(dotnet_base64_decode(s).unwrap_or_else(|| s.clone().into_bytes())),
        other => Some(other.to_string().into_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_dot_segments_stay_inside() {
        let root = Path::new("/r");
        assert_eq!(
            blob_file(root, "c/a/../b").unwrap(),
            Path::new("/r/c/a/%2E%2E/b")
        );
        assert_eq!(
            blob_file(root, "c/%2E%2E").unwrap(),
            Path::new("/r/c/%252E%252E")
        );
        assert_eq!(blob_file(root, "c//x").unwrap(), Path::new("/r/c/%/x"));
        assert!(blob_file(root, "../x").is_err());
        assert!(blob_file(root, "nocontainer").is_err());
    }

    #[test]
    fn base64_like_dotnet() {
        assert_eq!(dotnet_base64_decode("good text").unwrap().len(), 6);
        assert_eq!(dotnet_base64_decode("aGk=").unwrap(), b"hi");
        assert!(dotnet_base64_decode("aGk").is_none());
        assert!(dotnet_base64_decode("hello!").is_none());
        assert_eq!(dotnet_base64_decode("aGl=").unwrap(), b"hi");
    }

    #[test]
    fn templates() {
        let mut args = Map::new();
        args.insert("Name".into(), Value::String("x".into()));
        let sys = Map::new();
        let d = BindingData {
            mcptoolargs: &args,
            sys: &sys,
        };
        assert_eq!(
            resolve_path("s/{mcptoolargs.name}.json", &d).unwrap(),
            "s/x.json"
        );
        assert!(resolve_path("s/{mcptoolargs.other}.json", &d).is_err());
        assert!(resolve_path("s/{name}.json", &d).is_err());
    }
}
