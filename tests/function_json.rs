//! function.json generation: rule tests that hold whatever the snapshot says (contract §3,
//! §5), and a snapshot of every tool's folder so a change to what the host reads is reviewed.
//!
//! Refresh the snapshots with `UPDATE_SNAPSHOTS=1 cargo test --test function_json`.

use std::collections::HashSet;
use std::path::PathBuf;

use handler::functions_json::{function_json, write_all};
use serde_json::Value;

fn specs_and_json() -> Vec<(String, Value)> {
    let registry = mcp_tools::tools::builtin().expect("registry");
    registry
        .specs()
        .map(|s| (s.name.to_string(), function_json(s)))
        .collect()
}

fn trigger(json: &Value) -> &Value {
    let triggers: Vec<&Value> = json["bindings"]
        .as_array()
        .expect("bindings")
        .iter()
        .filter(|b| b["type"] == "mcpToolTrigger")
        .collect();
    assert_eq!(triggers.len(), 1, "exactly one mcpToolTrigger");
    triggers[0]
}

/// The host's `IsValidMcpToolJsonSchema`: a string holding JSON whose root is an object with
/// `type` exactly "object", `properties` an object and `required` an array.
fn assert_object_root_schema_string(value: &Value, what: &str) {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("{what} must be a string"));
    let schema: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(schema["type"], Value::String("object".into()), "{what}");
    assert!(schema["properties"].is_object(), "{what}: properties");
    assert!(schema["required"].is_array(), "{what}: required");
    assert!(schema.get("$ref").is_none(), "{what}: root $ref");
}

#[test]
fn triggers_follow_the_host_rules() {
    for (name, json) in specs_and_json() {
        let t = trigger(&json);
        assert_eq!(t["direction"], "in", "{name}");
        let binding_name = t["name"].as_str().expect("name");
        assert!(!binding_name.to_lowercase().ends_with("trigger"), "{name}");
        assert_eq!(t["toolName"], name.as_str());
        assert!(
            t["description"].as_str().is_some_and(|d| !d.is_empty()),
            "{name}"
        );
        assert_eq!(t["useResultSchema"], true, "{name}");
        assert_eq!(t["useWorkerInputSchema"], true, "{name}");
        assert_object_root_schema_string(&t["inputSchema"], &format!("{name}.inputSchema"));
        if let Some(out) = t.get("outputSchema") {
            assert_object_root_schema_string(out, &format!("{name}.outputSchema"));
        }
        let props: Value = serde_json::from_str(t["toolProperties"].as_str().expect("string"))
            .expect("toolProperties JSON");
        for p in props.as_array().expect("toolProperties is an array") {
            let ty = p["propertyType"].as_str().expect("propertyType");
            assert!(
                ["string", "number", "integer", "boolean", "object"].contains(&ty),
                "{name}: {ty}"
            );
            assert!(p["propertyName"].is_string() && p["isRequired"].is_boolean());
        }
        if let Some(meta) = t.get("metadata") {
            let meta: Value = serde_json::from_str(meta.as_str().expect("metadata string"))
                .expect("metadata JSON");
            assert!(meta.is_object(), "{name}: metadata is an object");
        }
        let bindings = json["bindings"].as_array().expect("bindings");
        assert!(
            !bindings.iter().any(|b| b["name"] == "$return"),
            "{name}: no $return binding"
        );
        for b in bindings.iter().filter(|b| b["type"] == "blob") {
            let path = b["path"].as_str().expect("path");
            assert!(path.contains("{mcptoolargs."), "{name}: {path}");
        }
    }
}

#[test]
fn names_are_valid_and_unique_case_insensitively() {
    let repo_dirs: HashSet<String> = std::fs::read_dir(env!("CARGO_MANIFEST_DIR"))
        .expect("repo")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir() && !e.path().join("function.json").exists())
        .map(|e| e.file_name().to_string_lossy().to_lowercase())
        .collect();
    let mut seen = HashSet::new();
    for (name, _) in specs_and_json() {
        assert!(
            (1..=64).contains(&name.len())
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'),
            "{name} must match ^[A-Za-z0-9_-]{{1,64}}$"
        );
        assert!(seen.insert(name.to_lowercase()), "{name} is not unique");
        // The folder lands at the app root beside the repo's own folders.
        assert!(
            !repo_dirs.contains(&name.to_lowercase()),
            "{name} clashes with a repo folder"
        );
    }
}

#[test]
fn snapshots_match() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/functions");
    let registry = mcp_tools::tools::builtin().expect("registry");
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        let _ = std::fs::remove_dir_all(&dir);
        write_all(&registry, &dir).expect("write snapshots");
        return;
    }
    let fresh = tempdir();
    write_all(&registry, &fresh).expect("write");
    let mut expected: Vec<String> = std::fs::read_dir(&dir)
        .expect("snapshots exist (UPDATE_SNAPSHOTS=1 to create)")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    expected.sort();
    let mut actual: Vec<String> = registry.specs().map(|s| s.name.to_string()).collect();
    actual.sort();
    assert_eq!(actual, expected, "tool folders differ from the snapshots");
    for name in actual {
        let want =
            std::fs::read_to_string(dir.join(&name).join("function.json")).expect("snapshot");
        let got = std::fs::read_to_string(fresh.join(&name).join("function.json")).expect("fresh");
        assert_eq!(
            got, want,
            "{name}/function.json drifted; review and UPDATE_SNAPSHOTS=1"
        );
    }
    let _ = std::fs::remove_dir_all(&fresh);
}

fn tempdir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fnjson-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("tempdir");
    dir
}
