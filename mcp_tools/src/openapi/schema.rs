//! OpenAPI schemas (3.0 and 3.1) as JSON Schema 2020-12 tool schemas.
//!
//! Local `$ref`s are inlined so a model sees each shape where it is used; a reference that
//! recurses is kept as `{"$ref": "#/$defs/Name"}` with `Name` in the root's `$defs`. 3.0's
//! `nullable` becomes a type array, boolean `exclusiveMinimum`/`Maximum` become numbers,
//! `example` becomes `examples`, and OpenAPI-only keywords are dropped. Inputs lose
//! `readOnly` properties and outputs lose `writeOnly` ones.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::document::{Document, OpenApiError};

/// Which side of the call a schema describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Input,
    Output,
}

/// Deep enough for any real API; shallow enough to stop a hostile or broken document.
const MAX_DEPTH: usize = 64;

/// Keywords that mean something to OpenAPI but not to JSON Schema, or nothing to a model.
const DROPPED: &[&str] = &[
    "nullable",
    "discriminator",
    "xml",
    "externalDocs",
    "example",
];

/// Schema keywords whose value is one subschema.
const ONE_SUBSCHEMA: &[&str] = &[
    "items",
    "additionalProperties",
    "not",
    "contains",
    "propertyNames",
    "unevaluatedItems",
    "unevaluatedProperties",
    "if",
    "then",
    "else",
];

/// Schema keywords whose value is an array of subschemas.
const MANY_SUBSCHEMAS: &[&str] = &["allOf", "anyOf", "oneOf", "prefixItems"];

pub struct Converter<'d> {
    doc: &'d Document,
    direction: Direction,
    /// Recursive definitions by name, converted (`Value::Null` while being converted).
    defs: BTreeMap<String, Value>,
    /// JSON pointer of each `$defs` name, to tell apart two schemas with the same name.
    def_pointers: BTreeMap<String, String>,
    pending: Vec<String>,
}

impl<'d> Converter<'d> {
    pub fn new(doc: &'d Document, direction: Direction) -> Self {
        Self {
            doc,
            direction,
            defs: BTreeMap::new(),
            def_pointers: BTreeMap::new(),
            pending: Vec::new(),
        }
    }

    /// Converts one schema (a parameter's, a body's, a response's). `$defs` collect across
    /// calls; take them with [`Converter::finish`].
    pub fn convert(&mut self, schema: &Value) -> Result<Value, OpenApiError> {
        let mut stack = Vec::new();
        self.walk(schema, &mut stack)
    }

    /// The `$defs` the converted schemas refer to (empty when nothing recursed).
    pub fn finish(mut self) -> Result<Map<String, Value>, OpenApiError> {
        while let Some(pointer) = self.pending.pop() {
            let name = def_name(&pointer);
            if self.defs.contains_key(&name) {
                continue;
            }
            self.defs.insert(name.clone(), Value::Null);
            let target = self.doc.pointer(&pointer)?.clone();
            let mut stack = vec![pointer];
            let converted = self.walk(&target, &mut stack)?;
            self.defs.insert(name, converted);
        }
        Ok(self.defs.into_iter().collect())
    }

    fn walk(&mut self, schema: &Value, stack: &mut Vec<String>) -> Result<Value, OpenApiError> {
        if stack.len() > MAX_DEPTH {
            return Err(OpenApiError::new(format!(
                "schemas nest deeper than {MAX_DEPTH} levels at {}",
                stack.last().map(String::as_str).unwrap_or("?")
            )));
        }
        let Value::Object(map) = schema else {
            // `true` / `false` schemas (3.1) pass through.
            return Ok(schema.clone());
        };
        if let Some(reference) = map.get("$ref") {
            return self.reference(reference, map, stack);
        }
        let mut out = Map::new();
        for (key, value) in map {
            if DROPPED.contains(&key.as_str()) || key.starts_with("x-") {
                continue;
            }
            let converted = match key.as_str() {
                "properties" | "patternProperties" | "$defs" | "dependentSchemas" => {
                    let Value::Object(props) = value else {
                        return Err(OpenApiError::new(format!("`{key}` must be an object")));
                    };
                    let mut converted = Map::new();
                    for (name, sub) in props {
                        converted.insert(name.clone(), self.walk(sub, stack)?);
                    }
                    Value::Object(converted)
                }
                k if ONE_SUBSCHEMA.contains(&k) && value.is_object() => self.walk(value, stack)?,
                k if MANY_SUBSCHEMAS.contains(&k) => {
                    let Value::Array(items) = value else {
                        return Err(OpenApiError::new(format!("`{key}` must be an array")));
                    };
                    Value::Array(
                        items
                            .iter()
                            .map(|s| self.walk(s, stack))
                            .collect::<Result<_, _>>()?,
                    )
                }
                _ => value.clone(),
            };
            out.insert(key.clone(), converted);
        }
        if let Some(example) = map.get("example")
            && !out.contains_key("examples")
        {
            out.insert("examples".into(), json!([example]));
        }
        exclusive_bounds(&mut out, "exclusiveMinimum", "minimum");
        exclusive_bounds(&mut out, "exclusiveMaximum", "maximum");
        self.drop_one_sided(&mut out);
        if map.get("nullable") == Some(&Value::Bool(true)) {
            return Ok(nullable(out));
        }
        Ok(Value::Object(out))
    }

    fn reference(
        &mut self,
        reference: &Value,
        siblings: &Map<String, Value>,
        stack: &mut Vec<String>,
    ) -> Result<Value, OpenApiError> {
        let Some(pointer) = reference.as_str() else {
            return Err(OpenApiError::new("`$ref` must be a string"));
        };
        let pointer = self.doc.local_pointer(pointer)?;
        let mut converted = if stack.iter().any(|p| p == &pointer) {
            let name = def_name(&pointer);
            match self.def_pointers.get(&name) {
                Some(existing) if existing != &pointer => {
                    return Err(OpenApiError::new(format!(
                        "two recursive schemas are both named `{name}` ({existing} and {pointer})"
                    )));
                }
                Some(_) => {}
                None => {
                    self.def_pointers.insert(name.clone(), pointer.clone());
                    self.pending.push(pointer.clone());
                }
            }
            json!({ "$ref": format!("#/$defs/{name}") })
        } else {
            let target = self.doc.pointer(&pointer)?.clone();
            stack.push(pointer);
            let converted = self.walk(&target, stack);
            stack.pop();
            converted?
        };
        // Descriptions (and 3.1's other siblings) beside a `$ref` describe this use of it.
        if let Value::Object(out) = &mut converted {
            for (key, value) in siblings {
                if key == "$ref" || DROPPED.contains(&key.as_str()) || key.starts_with("x-") {
                    continue;
                }
                if out.contains_key("$ref") && !matches!(key.as_str(), "description" | "title") {
                    continue;
                }
                out.insert(key.clone(), value.clone());
            }
            if siblings.get("nullable") == Some(&Value::Bool(true)) {
                let taken = std::mem::take(out);
                return Ok(nullable(taken));
            }
        }
        Ok(converted)
    }

    /// Inputs never carry `readOnly` properties (the server sets them); outputs never carry
    /// `writeOnly` ones (the server never sends them).
    fn drop_one_sided(&self, schema: &mut Map<String, Value>) {
        let flag = match self.direction {
            Direction::Input => "readOnly",
            Direction::Output => "writeOnly",
        };
        let Some(Value::Object(props)) = schema.get_mut("properties") else {
            return;
        };
        let dropped: Vec<String> = props
            .iter()
            .filter(|(_, s)| s.get(flag) == Some(&Value::Bool(true)))
            .map(|(name, _)| name.clone())
            .collect();
        if dropped.is_empty() {
            return;
        }
        props.retain(|name, _| !dropped.contains(name));
        if let Some(Value::Array(required)) = schema.get_mut("required") {
            required.retain(|r| r.as_str().is_none_or(|r| !dropped.iter().any(|d| d == r)));
        }
    }
}

/// `#/components/schemas/Category` → `Category`; other pointers → their last segment.
fn def_name(pointer: &str) -> String {
    let last = pointer.rsplit('/').next().unwrap_or(pointer);
    last.replace("~1", "_").replace("~0", "_")
}

/// 3.0: `exclusiveMinimum: true` beside `minimum: 5` means `exclusiveMinimum: 5` in 2020-12.
fn exclusive_bounds(schema: &mut Map<String, Value>, exclusive: &str, inclusive: &str) {
    match schema.get(exclusive) {
        Some(Value::Bool(true)) => {
            if let Some(bound) = schema.remove(inclusive) {
                schema.insert(exclusive.to_owned(), bound);
            } else {
                schema.remove(exclusive);
            }
        }
        Some(Value::Bool(false)) => {
            schema.remove(exclusive);
        }
        _ => {}
    }
}

/// 3.0's `nullable: true` as 2020-12: `null` joins the type (and the enum), or the schema
/// becomes `anyOf [schema, null]` when it has no single type to extend.
fn nullable(mut schema: Map<String, Value>) -> Value {
    match schema.get_mut("type") {
        Some(Value::String(t)) => {
            let t = std::mem::take(t);
            schema.insert("type".into(), json!([t, "null"]));
        }
        Some(Value::Array(types)) => {
            if !types.iter().any(|t| t == "null") {
                types.push(json!("null"));
            }
        }
        _ => {
            let description = schema.remove("description");
            let mut wrapped = Map::new();
            if let Some(d) = description {
                wrapped.insert("description".into(), d);
            }
            wrapped.insert(
                "anyOf".into(),
                json!([Value::Object(schema), {"type": "null"}]),
            );
            return Value::Object(wrapped);
        }
    }
    if let Some(Value::Array(values)) = schema.get_mut("enum")
        && !values.contains(&Value::Null)
    {
        values.push(Value::Null);
    }
    Value::Object(schema)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(components: Value) -> Document {
        Document::from_value(json!({
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1"},
            "paths": {},
            "components": {"schemas": components}
        }))
        .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn inlines_references_and_keeps_recursion_as_defs() {
        let d = doc(json!({
            "Category": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "children": {"type": "array", "items": {"$ref": "#/components/schemas/Category"}}
                }
            },
            "Holder": {"type": "object", "properties": {"c": {"$ref": "#/components/schemas/Category", "description": "Top."}}}
        }));
        let mut c = Converter::new(&d, Direction::Output);
        let s = c
            .convert(&json!({"$ref": "#/components/schemas/Holder"}))
            .unwrap_or_default();
        let defs = c.finish().unwrap_or_default();
        assert_eq!(s["properties"]["c"]["description"], "Top.");
        assert_eq!(
            s["properties"]["c"]["properties"]["children"]["items"],
            json!({"$ref": "#/$defs/Category"})
        );
        assert_eq!(
            defs["Category"]["properties"]["children"]["items"],
            json!({"$ref": "#/$defs/Category"})
        );
    }

    #[test]
    fn nullable_read_only_and_bounds() {
        let d = doc(json!({}));
        let mut c = Converter::new(&d, Direction::Input);
        let s = c
            .convert(&json!({
                "type": "object",
                "required": ["id", "note"],
                "properties": {
                    "id": {"type": "string", "readOnly": true},
                    "note": {"type": "string", "nullable": true, "example": "hi"},
                    "kind": {"type": "string", "enum": ["a"], "nullable": true},
                    "n": {"type": "number", "minimum": 0, "exclusiveMinimum": true},
                    "any": {"allOf": [{"type": "string"}], "nullable": true, "description": "d"}
                }
            }))
            .unwrap_or_default();
        assert_eq!(s["required"], json!(["note"]));
        assert!(s["properties"].get("id").is_none());
        assert_eq!(
            s["properties"]["note"],
            json!({"type": ["string", "null"], "examples": ["hi"]})
        );
        assert_eq!(s["properties"]["kind"]["enum"], json!(["a", null]));
        assert_eq!(
            s["properties"]["n"],
            json!({"type": "number", "exclusiveMinimum": 0})
        );
        assert_eq!(s["properties"]["any"]["description"], "d");
        assert_eq!(s["properties"]["any"]["anyOf"][1], json!({"type": "null"}));
    }

    #[test]
    fn refuses_remote_references() {
        let d = doc(json!({}));
        let mut c = Converter::new(&d, Direction::Input);
        assert!(
            c.convert(&json!({"$ref": "https://example.com/s.json"}))
                .is_err()
        );
        assert!(
            c.convert(&json!({"$ref": "#/components/schemas/Missing"}))
                .is_err()
        );
    }
}
