//! The app as the host indexes it at start: host.json, local.settings.json and the
//! top-level function folders that carry an `mcpToolTrigger` (contract §2, §3, §5).
//!
//! Everything the real host would reject at indexing time is rejected here, before the
//! handler is ever started, so a broken generator fails loudly instead of at the first call.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use crate::EmulatorError;

/// Defaults of the extension when host.json names no server; not in the contract, so
/// the values only need to be stable.
const DEFAULT_SERVER_NAME: &str = "Azure Functions MCP server";
const DEFAULT_SERVER_VERSION: &str = "1.0.0";

#[derive(Debug, Clone)]
pub struct App {
    pub root: PathBuf,
    pub launch: Launch,
    pub server_name: String,
    pub server_version: String,
    pub instructions: Option<String>,
    /// `extensions.mcp.system.webhookAuthorizationLevel: "Anonymous"` turns the key check off.
    pub anonymous: bool,
    pub tools: Vec<Tool>,
}

/// How the host starts the custom handler.
#[derive(Debug, Clone)]
pub struct Launch {
    pub program: PathBuf,
    pub args: Vec<String>,
    pub working_dir: PathBuf,
    /// local.settings.json `Values`, then the caller's extra env (later wins).
    pub env: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
pub struct Tool {
    /// The folder name: the URL path the handler is invoked on.
    pub function_name: String,
    pub tool_name: String,
    pub description: Option<String>,
    /// Key of the invocation context in `Data`.
    pub trigger_binding: String,
    pub input_schema: Value,
    pub output_schema: Option<Value>,
    pub meta: Option<Value>,
    /// What the host checks for presence before invoking (never types).
    pub required: Vec<String>,
    pub use_result_schema: bool,
    pub blob_inputs: Vec<BlobBinding>,
    pub blob_outputs: Vec<BlobBinding>,
}

#[derive(Debug, Clone)]
pub struct BlobBinding {
    pub name: String,
    pub path: String,
    /// `dataType: "binary"`: inputs arrive as base64, outputs are never base64-decoded.
    pub binary: bool,
}

impl Tool {
    /// The entry of `tools/list`.
    pub fn list_entry(&self) -> Value {
        let mut t = Map::new();
        t.insert("name".into(), json!(self.tool_name));
        if let Some(d) = &self.description {
            t.insert("description".into(), json!(d));
        }
        t.insert("inputSchema".into(), self.input_schema.clone());
        if let Some(o) = &self.output_schema {
            t.insert("outputSchema".into(), o.clone());
        }
        if let Some(m) = &self.meta {
            t.insert("_meta".into(), m.clone());
        }
        Value::Object(t)
    }
}

fn err(msg: impl Into<String>) -> EmulatorError {
    EmulatorError::App(msg.into())
}

/// Reads and validates the whole app. `extra_env` also feeds `%VAR%` expansion, as app
/// settings do in the real host.
pub fn load(root: &Path, extra_env: &[(String, String)]) -> Result<App, EmulatorError> {
    let root = std::fs::canonicalize(root)
        .map_err(|e| err(format!("app root {}: {e}", root.display())))?;

    let mut env = read_local_settings(&root)?;
    env.extend(extra_env.iter().cloned());
    let mut lookup: HashMap<String, String> = std::env::vars().collect();
    lookup.extend(env.iter().cloned());

    let host_path = root.join("host.json");
    let host_text = std::fs::read_to_string(&host_path)
        .map_err(|e| err(format!("{}: {e}", host_path.display())))?;
    let mut host: Value = serde_json::from_str(&host_text)
        .map_err(|e| err(format!("{}: not JSON: {e}", host_path.display())))?;
    expand_all(&mut host, &lookup);

    let launch = read_launch(&root, &host, env)?;
    let mcp = host.pointer("/extensions/mcp");
    let mcp_str = |key: &str| {
        mcp.and_then(|m| m.get(key))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let anonymous = mcp
        .and_then(|m| m.pointer("/system/webhookAuthorizationLevel"))
        .and_then(Value::as_str)
        .is_some_and(|l| l.eq_ignore_ascii_case("anonymous"));

    let tools = read_tools(&root)?;
    Ok(App {
        launch,
        server_name: mcp_str("serverName").unwrap_or_else(|| DEFAULT_SERVER_NAME.into()),
        server_version: mcp_str("serverVersion").unwrap_or_else(|| DEFAULT_SERVER_VERSION.into()),
        instructions: mcp_str("instructions"),
        anonymous,
        tools,
        root,
    })
}

fn read_local_settings(root: &Path) -> Result<Vec<(String, String)>, EmulatorError> {
    let path = root.join("local.settings.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(Vec::new());
    };
    let v: Value = serde_json::from_str(&text)
        .map_err(|e| err(format!("{}: not JSON: {e}", path.display())))?;
    let mut out = Vec::new();
    if let Some(values) = v.get("Values").and_then(Value::as_object) {
        for (k, val) in values {
            let s = match val {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            };
            out.push((k.clone(), s));
        }
    }
    Ok(out)
}

fn read_launch(
    root: &Path,
    host: &Value,
    env: Vec<(String, String)>,
) -> Result<Launch, EmulatorError> {
    let desc = host
        .pointer("/customHandler/description")
        .ok_or_else(|| err("host.json has no customHandler.description"))?;
    let exe = desc
        .get("defaultExecutablePath")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| err("host.json: customHandler.description.defaultExecutablePath missing"))?;
    let working_dir = match desc.get("workingDirectory").and_then(Value::as_str) {
        Some(w) if !w.is_empty() => root.join(w),
        _ => root.to_path_buf(),
    };
    // A bare name that is not a file of the app (e.g. "python3") is left to PATH lookup.
    let exe_path = Path::new(exe);
    let program = if exe_path.is_absolute() {
        exe_path.to_path_buf()
    } else if root.join(exe_path).exists() || exe.contains('/') {
        root.join(exe_path)
    } else {
        exe_path.to_path_buf()
    };
    let args = match desc.get("arguments") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| match x {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect(),
        Some(_) => {
            return Err(err(
                "host.json: customHandler.description.arguments must be an array",
            ));
        }
    };
    Ok(Launch {
        program,
        args,
        working_dir,
        env,
    })
}

/// .NET `Environment.ExpandEnvironmentVariables`: `%NAME%` is replaced when NAME is
/// defined, left verbatim otherwise.
pub fn expand_env(s: &str, lookup: &HashMap<String, String>) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find('%') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        match after.find('%') {
            Some(end) => {
                let name = &after[..end];
                match lookup.get(name) {
                    Some(v) if !name.is_empty() => {
                        out.push_str(v);
                        rest = &after[end + 1..];
                    }
                    _ => {
                        // The closing % may open the next reference.
                        out.push('%');
                        out.push_str(name);
                        rest = &after[end..];
                    }
                }
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

fn expand_all(v: &mut Value, lookup: &HashMap<String, String>) {
    match v {
        Value::String(s) => *s = expand_env(s, lookup),
        Value::Array(a) => a.iter_mut().for_each(|x| expand_all(x, lookup)),
        Value::Object(o) => o.values_mut().for_each(|x| expand_all(x, lookup)),
        _ => {}
    }
}

fn read_tools(root: &Path) -> Result<Vec<Tool>, EmulatorError> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)
        .map_err(|e| err(format!("{}: {e}", root.display())))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir() && p.join("function.json").is_file())
        .collect();
    dirs.sort();

    let mut tools: Vec<Tool> = Vec::new();
    for dir in dirs {
        let function_name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let path = dir.join("function.json");
        let text =
            std::fs::read_to_string(&path).map_err(|e| err(format!("{}: {e}", path.display())))?;
        let fj: Value = serde_json::from_str(&text)
            .map_err(|e| err(format!("{}: not JSON: {e}", path.display())))?;
        let Some(tool) = read_tool(&function_name, &fj).map_err(|m| {
            err(format!(
                "function '{function_name}' ({}): {m}",
                path.display()
            ))
        })?
        else {
            continue;
        };
        if let Some(other) = tools
            .iter()
            .find(|t| t.tool_name.to_lowercase() == tool.tool_name.to_lowercase())
        {
            return Err(err(format!(
                "duplicate MCP tool name '{}' (functions '{}' and '{}'; tool names are unique case-insensitively)",
                tool.tool_name, other.function_name, tool.function_name
            )));
        }
        tools.push(tool);
    }
    Ok(tools)
}

fn flag(b: &Map<String, Value>, key: &str) -> bool {
    match b.get(key) {
        Some(Value::Bool(x)) => *x,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

fn opt_str<'a>(b: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    b.get(key).and_then(Value::as_str)
}

/// `Ok(None)` for a function that is not an MCP tool.
fn read_tool(function_name: &str, fj: &Value) -> Result<Option<Tool>, String> {
    let bindings = fj
        .get("bindings")
        .and_then(Value::as_array)
        .ok_or("no `bindings` array")?;
    let is_type = |b: &Map<String, Value>, t: &str| {
        opt_str(b, "type").is_some_and(|x| x.eq_ignore_ascii_case(t))
    };
    let objects: Vec<&Map<String, Value>> = bindings.iter().filter_map(Value::as_object).collect();
    let Some(trigger) = objects.iter().find(|b| is_type(b, "mcpToolTrigger")) else {
        return Ok(None);
    };

    let trigger_binding = opt_str(trigger, "name")
        .filter(|s| !s.is_empty())
        .ok_or("mcpToolTrigger has no `name`")?
        .to_owned();
    let tool_name = opt_str(trigger, "toolName")
        .filter(|s| !s.is_empty())
        .ok_or("mcpToolTrigger has no `toolName`")?
        .to_owned();

    let present = |k: &str| trigger.get(k).filter(|v| !v.is_null());
    let output_schema = present("outputSchema")
        .map(|v| valid_schema(v).map_err(|m| format!("outputSchema: {m}")))
        .transpose()?;
    let worker_schema = present("inputSchema")
        .map(|v| valid_schema(v).map_err(|m| format!("inputSchema: {m}")))
        .transpose()?;

    let (input_schema, required) = if flag(trigger, "useWorkerInputSchema") {
        let s = worker_schema.ok_or("useWorkerInputSchema is true but inputSchema is missing")?;
        let required = s
            .get("required")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        (s, required)
    } else {
        schema_from_properties(present("toolProperties"))?
    };

    let meta = present("metadata")
        .map(|v| {
            let s = v
                .as_str()
                .ok_or("metadata must be a string holding a JSON object")?;
            match serde_json::from_str::<Value>(s) {
                Ok(o @ Value::Object(_)) => Ok(o),
                _ => Err("metadata must be a string holding a JSON object"),
            }
        })
        .transpose()?;

    let blob = |dir: &str| -> Result<Vec<BlobBinding>, String> {
        objects
            .iter()
            .filter(|b| is_type(b, "blob"))
            .filter(|b| opt_str(b, "direction").is_some_and(|d| d.eq_ignore_ascii_case(dir)))
            .map(|b| {
                Ok(BlobBinding {
                    name: opt_str(b, "name")
                        .ok_or("blob binding without `name`")?
                        .to_owned(),
                    path: opt_str(b, "path")
                        .ok_or("blob binding without `path`")?
                        .to_owned(),
                    binary: opt_str(b, "dataType")
                        .is_some_and(|d| d.eq_ignore_ascii_case("binary")),
                })
            })
            .collect()
    };

    Ok(Some(Tool {
        function_name: function_name.to_owned(),
        tool_name,
        description: opt_str(trigger, "description").map(str::to_owned),
        trigger_binding,
        input_schema,
        output_schema,
        meta,
        required,
        use_result_schema: flag(trigger, "useResultSchema"),
        blob_inputs: blob("in")?,
        blob_outputs: blob("out")?,
    }))
}

/// The extension's `IsValidMcpToolJsonSchema`: a string holding JSON whose root is an
/// object with `type` exactly "object".
pub fn valid_schema(v: &Value) -> Result<Value, String> {
    let s = v.as_str().ok_or("must be a string holding a JSON Schema")?;
    let parsed: Value = serde_json::from_str(s).map_err(|e| format!("not JSON: {e}"))?;
    let obj = parsed
        .as_object()
        .ok_or("the schema root must be a JSON object")?;
    if obj.get("type") != Some(&Value::String("object".into())) {
        return Err(format!(
            "the schema root's `type` must be exactly \"object\", found {}",
            obj.get("type").map_or("nothing".into(), Value::to_string)
        ));
    }
    if obj.get("properties").is_some_and(|p| !p.is_object()) {
        return Err("`properties` must be an object".into());
    }
    if obj.get("required").is_some_and(|r| !r.is_array()) {
        return Err("`required` must be an array".into());
    }
    Ok(parsed)
}

fn schema_from_properties(tp: Option<&Value>) -> Result<(Value, Vec<String>), String> {
    let list: Vec<Value> = match tp {
        None => Vec::new(),
        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(Value::Array(a)) => a,
            Ok(Value::Null) => Vec::new(),
            _ => return Err("toolProperties must be a string holding a JSON array".into()),
        },
        Some(_) => return Err("toolProperties must be a string holding a JSON array".into()),
    };
    let mut properties = Map::new();
    let mut required = Vec::new();
    for p in &list {
        let p = p
            .as_object()
            .ok_or("toolProperties entries must be objects")?;
        let name = opt_str(p, "propertyName")
            .filter(|s| !s.is_empty())
            .ok_or("a toolProperties entry has no propertyName")?;
        let ty = opt_str(p, "propertyType").unwrap_or("string");
        let mut item = Map::new();
        item.insert("type".into(), json!(ty));
        if let Some(Value::Array(e)) = p.get("enumValues")
            && !e.is_empty()
        {
            item.insert("enum".into(), Value::Array(e.clone()));
        }
        let mut prop = if flag(p, "isArray") {
            let mut a = Map::new();
            a.insert("type".into(), json!("array"));
            a.insert("items".into(), Value::Object(item));
            a
        } else {
            item
        };
        if let Some(d) = opt_str(p, "description") {
            prop.insert("description".into(), json!(d));
        }
        properties.insert(name.to_owned(), Value::Object(prop));
        if flag(p, "isRequired") {
            required.push(name.to_owned());
        }
    }
    let schema = json!({"type": "object", "properties": properties, "required": required});
    Ok((schema, required))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expansion_follows_dotnet() {
        let mut m = HashMap::new();
        m.insert("A".to_string(), "x".to_string());
        assert_eq!(expand_env("%A%/%B%/%A%", &m), "x/%B%/x");
        assert_eq!(expand_env("100%", &m), "100%");
        assert_eq!(expand_env("%B%A%", &m), "%Bx");
    }

    #[test]
    fn schema_root_must_be_object_type() {
        assert!(valid_schema(&json!(r#"{"type":"object"}"#)).is_ok());
        assert!(valid_schema(&json!(r#"{"type":["object","null"]}"#)).is_err());
        assert!(valid_schema(&json!(r#"[]"#)).is_err());
        assert!(valid_schema(&json!({"type":"object"})).is_err());
        assert!(valid_schema(&json!(r#"{"type":"object","required":{}}"#)).is_err());
    }
}
